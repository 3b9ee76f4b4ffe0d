"""Enrolment pages: join link → consent → persona questionnaire → done (token for the
extension), and withdrawal from the done page. Forms are parsed with the standard library
(``application/x-www-form-urlencoded``), so no multipart dependency is needed."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from behaviorlab.collect._questionnaire import AnswersError, check_answers
from behaviorlab.collect._study import Participant, iso, new_token

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("behaviorlab.collect", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)
_MAX_FORM_BYTES = 256 * 1024


def render(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    return HTMLResponse(_ENV.get_template(name).render(**values), status_code=status)


def _message(title: str, text: str, status: int) -> HTMLResponse:
    return render("collect_message.html", status, title=title, text=text)


async def _form(request: Request) -> dict[str, list[str]]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM_BYTES:
            return {}
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=False)


def add_pages(app: FastAPI, state: Any) -> None:
    """Register the enrolment pages on ``app`` (``state``: the server's ServerState)."""
    store = state.store

    async def who(token: str) -> Participant | None:
        return await run_in_threadpool(store.participant, token=token)

    @app.get("/join/{study_id}", response_class=HTMLResponse)
    async def join(study_id: str, t: str = "") -> Response:
        study = await run_in_threadpool(store.get_study, study_id)
        # an unknown study answers as a wrong token does (as the guards' page): ids can't be probed
        if study is None or not secrets.compare_digest(t.encode(), study.token.encode()):
            return _message(
                "Invalid link", "This join link is not valid; ask the study for its link.", 403
            )
        participant = Participant(
            participant_id=f"p{secrets.token_hex(6)}",
            study_id=study.study_id,
            token=new_token("pt-"),
            enrolled_at=state.clock(),
        )
        await run_in_threadpool(store.add_participant, participant)
        return RedirectResponse(f"/p/{participant.token}/consent", status_code=303)

    @app.get("/p/{token}/consent", response_class=HTMLResponse)
    async def consent_page(token: str) -> Response:
        found = await who(token)
        if found is None:
            return _message("Unknown participant", "This enrolment link is not valid.", 404)
        study = await run_in_threadpool(store.get_study, found.study_id)
        assert study is not None
        return render("collect_consent.html", study=study, shown_at=iso(state.clock()), error="")

    @app.post("/p/{token}/consent", response_class=HTMLResponse)
    async def consent(token: str, request: Request) -> Response:
        found = await who(token)
        if found is None:
            return _message("Unknown participant", "This enrolment link is not valid.", 404)
        study = await run_in_threadpool(store.get_study, found.study_id)
        assert study is not None
        form = await _form(request)
        if form.get("agree") != ["yes"]:
            return render(
                "collect_consent.html",
                422,
                study=study,
                shown_at=iso(state.clock()),
                error="Tick the box to consent, or close this page to leave the study.",
            )
        now = state.clock()  # the form's shown_at is not read: the store keeps the server's
        text = f"{study.consent_text}\nRecorded sites: {', '.join(study.allowed_hosts)}"
        await run_in_threadpool(store.record_consent, found, text, now, now)
        return RedirectResponse(f"/p/{token}/questionnaire", status_code=303)

    async def consented(token: str) -> Participant | Response:
        found = await who(token)
        if found is None:
            return _message("Unknown participant", "This enrolment link is not valid.", 404)
        if found.consented_at is None:
            return RedirectResponse(f"/p/{token}/consent", status_code=303)
        return found

    @app.get("/p/{token}/questionnaire", response_class=HTMLResponse)
    async def questionnaire_page(token: str) -> Response:
        found = await consented(token)
        if isinstance(found, Response):
            return found
        study = await run_in_threadpool(store.get_study, found.study_id)
        assert study is not None
        return render(
            "collect_questionnaire.html",
            q=state.questionnaire(study),
            answers={},
            problems={},
        )

    @app.post("/p/{token}/questionnaire", response_class=HTMLResponse)
    async def questionnaire(token: str, request: Request) -> Response:
        found = await consented(token)
        if isinstance(found, Response):
            return found
        study = await run_in_threadpool(store.get_study, found.study_id)
        assert study is not None
        q = state.questionnaire(study)
        form = await _form(request)
        multi = {x.id for x in q.questions() if x.kind == "multi"}
        answers: dict[str, Any] = {
            k: (v if k in multi else v[0]) for k, v in form.items() if k != "submit"
        }
        try:
            survey, raw = check_answers(q, answers, state.masker(study))
        except AnswersError as err:
            problems = {p.location.removeprefix("answers."): p.problem for p in err.problems}
            return render(
                "collect_questionnaire.html", 422, q=q, answers=answers, problems=problems
            )
        await run_in_threadpool(store.save_survey, found.participant_id, survey, raw, state.clock())
        return RedirectResponse(f"/p/{token}/done", status_code=303)

    @app.get("/p/{token}/done", response_class=HTMLResponse)
    async def done(token: str, request: Request) -> Response:
        found = await consented(token)
        if isinstance(found, Response):
            return found
        study = await run_in_threadpool(store.get_study, found.study_id)
        assert study is not None
        server = str(request.base_url).rstrip("/")
        return render("collect_done.html", study=study, who=found, server=server)

    @app.post("/p/{token}/withdraw", response_class=HTMLResponse)
    async def withdraw(token: str) -> Response:
        found = await who(token)
        if found is None:
            return _message("Withdrawn", "There is no data of this participant here.", 200)
        done = await run_in_threadpool(store.withdraw, found.participant_id)
        if not done.done:  # deleted, but still on disk until a reader lets go: say so
            return _message(
                "Withdrawn",
                "You have left the study; everything recorded about you is deleted from the "
                f"study's data and is being removed from disk (receipt {done.receipt}).",
                200,
            )
        return _message(
            "Withdrawn", "You have left the study; everything recorded about you is deleted.", 200
        )
