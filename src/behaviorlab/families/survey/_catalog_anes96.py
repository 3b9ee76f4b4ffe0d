"""Persona sentences and questions for the ANES 1996 table of ``statsmodels.datasets.anes96``.

Labels follow the dataset's NOTE (``statsmodels.datasets.anes96.NOTE``); question wordings
follow the ANES questionnaire, with two paraphrases each.
"""

from __future__ import annotations

from behaviorlab.data._mapping import PersonaField, QuestionSpec

_SCALE_LR = {
    "1": "extremely liberal",
    "2": "liberal",
    "3": "slightly liberal",
    "4": "moderate",
    "5": "slightly conservative",
    "6": "conservative",
    "7": "extremely conservative",
}
_SCALE_LR_OPTIONS = {k: v[0].upper() + v[1:] for k, v in _SCALE_LR.items()}
_SCALE_INTRO = (
    "We hear a lot of talk these days about liberals and conservatives. Here is a seven-point "
    "scale on which the political views that people might hold are arranged from extremely "
    "liberal to extremely conservative. "
)

PERSONA = [
    PersonaField(column="age", template="You are {value} years old."),
    PersonaField(
        column="educ",
        template="Your highest level of education is {value}.",
        values={
            "1": "grade school (grades 1 to 8)",
            "2": "some high school",
            "3": "a high school diploma",
            "4": "some college",
            "5": "a college degree",
            "6": "a master's degree",
            "7": "a PhD",
        },
    ),
    PersonaField(
        column="income",
        template="Your household income is {value} a year.",
        values={
            "1": "less than $3,000",
            "2": "$3,000 to $4,999",
            "3": "$5,000 to $6,999",
            "4": "$7,000 to $8,999",
            "5": "$9,000 to $9,999",
            "6": "$10,000 to $10,999",
            "7": "$11,000 to $11,999",
            "8": "$12,000 to $12,999",
            "9": "$13,000 to $13,999",
            "10": "$14,000 to $14,999",
            "11": "$15,000 to $16,999",
            "12": "$17,000 to $19,999",
            "13": "$20,000 to $21,999",
            "14": "$22,000 to $24,999",
            "15": "$25,000 to $29,999",
            "16": "$30,000 to $34,999",
            "17": "$35,000 to $39,999",
            "18": "$40,000 to $44,999",
            "19": "$45,000 to $49,999",
            "20": "$50,000 to $59,999",
            "21": "$60,000 to $74,999",
            "22": "$75,000 to $89,999",
            "23": "$90,000 to $104,999",
            "24": "$105,000 or more",
        },
    ),
    PersonaField(
        column="PID",
        template="Politically, you are {value}.",
        values={
            "0": "a strong Democrat",
            "1": "a weak Democrat",
            "2": "an independent who leans Democrat",
            "3": "an independent",
            "4": "an independent who leans Republican",
            "5": "a weak Republican",
            "6": "a strong Republican",
        },
    ),
    PersonaField(
        column="selfLR",
        template="On a scale from extremely liberal to extremely conservative, "
        "you place yourself as {value}.",
        values=_SCALE_LR,
    ),
    PersonaField(
        column="TVnews",
        template="You watch the news on TV {value}.",
        values={
            "0": "on no day of the week",
            "1": "one day a week",
            **{str(d): f"{d} days a week" for d in range(2, 7)},
            "7": "every day",
        },
    ),
    PersonaField(
        column="popul",
        template="About {value} thousand people live in the place where you live.",
    ),
    PersonaField(
        column="ClinLR",
        template="On a scale from extremely liberal to extremely conservative, you see "
        "Bill Clinton as {value}.",
        values=_SCALE_LR,
    ),
    PersonaField(
        column="DoleLR",
        template="On a scale from extremely liberal to extremely conservative, you see Bob Dole "
        "as {value}.",
        values=_SCALE_LR,
    ),
]

QUESTIONS = [
    QuestionSpec(
        column="vote",
        text="If the 1996 presidential election were held today, who would you vote for?",
        options={"0": "Bill Clinton (Democrat)", "1": "Bob Dole (Republican)"},
        paraphrases=[
            "In the 1996 presidential election, which candidate do you expect to vote for?",
            "Thinking about the 1996 race for president, would you vote for Bill Clinton or "
            "Bob Dole?",
        ],
    ),
    QuestionSpec(
        column="PID",
        text="Generally speaking, do you usually think of yourself as a Republican, a Democrat, "
        "an Independent, or what? And how strongly?",
        options={
            "0": "Strong Democrat",
            "1": "Weak Democrat",
            "2": "Independent, leaning Democrat",
            "3": "Independent",
            "4": "Independent, leaning Republican",
            "5": "Weak Republican",
            "6": "Strong Republican",
        },
        paraphrases=[
            "Which party do you identify with, and how strongly?",
            "Where do you stand on party identification, from strong Democrat to strong "
            "Republican?",
        ],
    ),
    QuestionSpec(
        column="selfLR",
        text=_SCALE_INTRO + "Where would you place yourself on this scale?",
        options=_SCALE_LR_OPTIONS,
        paraphrases=[
            "On a seven-point scale from extremely liberal to extremely conservative, where do "
            "your own political views fall?",
            "How would you describe your political views: liberal, moderate or conservative, "
            "and how much so?",
        ],
    ),
    QuestionSpec(
        column="ClinLR",
        text=_SCALE_INTRO + "Where would you place Bill Clinton on this scale?",
        options=_SCALE_LR_OPTIONS,
        paraphrases=[
            "On a seven-point scale from extremely liberal to extremely conservative, where "
            "would you put Bill Clinton's political views?",
            "How liberal or conservative do you think Bill Clinton is?",
        ],
    ),
    QuestionSpec(
        column="DoleLR",
        text=_SCALE_INTRO + "Where would you place Bob Dole on this scale?",
        options=_SCALE_LR_OPTIONS,
        paraphrases=[
            "On a seven-point scale from extremely liberal to extremely conservative, where "
            "would you put Bob Dole's political views?",
            "How liberal or conservative do you think Bob Dole is?",
        ],
    ),
    QuestionSpec(
        column="TVnews",
        text="How many days in the past week did you watch the news on TV?",
        options={"0": "None", "1": "1 day", **{str(d): f"{d} days" for d in range(2, 8)}},
        paraphrases=[
            "On how many of the last seven days did you watch a TV news program?",
            "In a typical week, how many days do you watch the news on television?",
        ],
    ),
]

DEFAULT_TARGETS = ["vote"]
DEFAULT_PERSONA = ["age", "educ", "income", "PID", "selfLR"]
