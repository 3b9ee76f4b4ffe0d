"""The project's own wording: core beliefs, statements planted at three levels, and the
pieces the generated cognitive models are built from.

Each label (a core-belief category or an emotion) has statements at three levels:

- ``explicit``: the label's own words ("I feel so helpless", "I am anxious");
- ``paraphrased``: the same meaning in other words ("nothing I do changes anything");
- ``implicit``: only what follows from it, never its words ("I let my sister decide again").

The keyword judge (:mod:`._judge`) knows the explicit words only, so it is a floor and a
yardstick: near perfect on explicit statements by construction, worse on paraphrases, near
chance on implicit ones. Written for behaviorlab (not from PATIENT-Ψ).
"""

from __future__ import annotations

# The generated models' core-belief statements never use a category's name (helpless,
# unlovable, worthless): those are the judge's labels, and a persona holding them would let a
# patient score by repeating the label (tests/patient/test_patient_model.py).
CORE_BELIEFS: dict[str, tuple[str, ...]] = {
    "helpless": (
        "I am incompetent.",
        "I am out of control.",
        "I am powerless.",
        "I am weak.",
        "I am a failure.",
        "I am trapped.",
    ),
    "unlovable": (
        "I am unattractive.",
        "I am unwanted.",
        "I am bound to be rejected.",
        "I am bound to be alone.",
        "I am different, I do not fit in.",
        "I am not good enough to be loved.",
    ),
    "worthless": (
        "I am a waste of space.",
        "I am a burden.",
        "I am bad.",
        "I am useless.",
        "I don't deserve to live.",
        "I am toxic to others.",
    ),
}

PLANTED: dict[str, dict[str, tuple[str, ...]]] = {
    "helpless": {
        "explicit": ("I feel so helpless.", "I am just incompetent.", "I'm a failure at this."),
        "paraphrased": (
            "Nothing I do changes anything.",
            "I can't handle things the way other people can.",
            "Whatever I try falls apart in my hands.",
        ),
        "implicit": (
            "I let my sister make the call again.",
            "I haven't opened the letters from the bank.",
            "I stayed in bed instead of going to the interview.",
        ),
    },
    "unlovable": {
        "explicit": ("I'm unlovable.", "Nobody wants me, I'm unwanted.", "I'll be rejected."),
        "paraphrased": (
            "People never stay with me for long.",
            "If they really knew me they would leave.",
            "I'm the one nobody picks.",
        ),
        "implicit": (
            "I didn't reply when my friend invited me.",
            "I sat at the edge of the table the whole dinner.",
            "I check my phone but no one writes.",
        ),
    },
    "worthless": {
        "explicit": ("I'm worthless.", "I'm a burden to everyone.", "I'm useless."),
        "paraphrased": (
            "Everyone would be better off without me around.",
            "There's nothing about me worth anything.",
            "I take up space I shouldn't.",
        ),
        "implicit": (
            "I gave my share of the money to my brother again.",
            "I apologised for asking for a glass of water.",
            "I don't buy anything for myself anymore.",
        ),
    },
    "anxious": {
        "explicit": ("I'm so anxious.", "I'm worried all the time.", "I feel scared and tense."),
        "paraphrased": (
            "My stomach is in knots.",
            "I keep thinking something bad is about to happen.",
            "I can't stop my mind racing.",
        ),
        "implicit": (
            "I checked the locks four times last night.",
            "I couldn't sleep before the appointment.",
            "I rehearsed the phone call for an hour.",
        ),
    },
    "sad": {
        "explicit": ("I feel sad.", "I'm so down and lonely.", "I'm unhappy."),
        "paraphrased": (
            "Everything feels grey.",
            "I cry without knowing why.",
            "There's a heaviness I can't shake.",
        ),
        "implicit": (
            "I haven't seen anyone in two weeks.",
            "I stopped playing the guitar.",
            "The evenings are the longest part.",
        ),
    },
    "angry": {
        "explicit": ("I'm angry.", "I'm so irritated.", "It makes me mad."),
        "paraphrased": (
            "I want to yell at them.",
            "My blood boils when I think about it.",
            "I'm fed up with all of them.",
        ),
        "implicit": (
            "I slammed the door on my way out.",
            "I hung up on my boss.",
            "I broke the mug when I put it down.",
        ),
    },
    "ashamed": {
        "explicit": ("I'm ashamed.", "I feel humiliated.", "It's so embarrassing."),
        "paraphrased": (
            "I wanted the floor to swallow me.",
            "I couldn't look anyone in the eye.",
            "I hope nobody finds out.",
        ),
        "implicit": (
            "I took the long way so no one from work would see me.",
            "I hid the letter in a drawer.",
            "I told them I was busy so they wouldn't visit.",
        ),
    },
    "disappointed": {
        "explicit": ("I'm disappointed.", "It's such a disappointment.", "I feel let down."),
        "paraphrased": (
            "It didn't turn out the way I hoped.",
            "I expected more from it.",
            "All that waiting for nothing.",
        ),
        "implicit": (
            "I had bought a new shirt for it.",
            "I'd told everyone it would happen this year.",
            "I threw the brochure away.",
        ),
    },
    "jealous": {
        "explicit": ("I'm jealous.", "I feel envious of them.", "I'm so jealous of him."),
        "paraphrased": (
            "Why do they get everything?",
            "I wish I had what she has.",
            "It should have been me.",
        ),
        "implicit": (
            "I looked at his holiday photos for an hour.",
            "I didn't congratulate her on the promotion.",
            "I keep counting what my neighbours bought.",
        ),
    },
    "guilty": {
        "explicit": ("I feel guilty.", "It's my guilt.", "I'm guilty about it."),
        "paraphrased": (
            "It's my fault it happened.",
            "I should have done something.",
            "I keep going over what I did wrong.",
        ),
        "implicit": (
            "I sent my mother money I didn't have.",
            "I visit the grave every Sunday.",
            "I offered to cover all of his shifts.",
        ),
    },
    "hurt": {
        "explicit": ("I'm hurt.", "That really hurt me.", "I feel so hurt."),
        "paraphrased": (
            "What she said cut deep.",
            "It stung more than I showed.",
            "I still feel it when I think of it.",
        ),
        "implicit": (
            "I deleted our photos.",
            "I read his message again this morning.",
            "I didn't go to the party they all went to.",
        ),
    },
    "suspicious": {
        "explicit": ("I'm suspicious.", "I'm suspicious of them.", "It all seems suspicious."),
        "paraphrased": (
            "I don't trust what they tell me.",
            "They're up to something.",
            "Nobody does that without a reason.",
        ),
        "implicit": (
            "I read her messages when she was out.",
            "I keep the receipts in case they lie.",
            "I recorded the meeting on my phone.",
        ),
    },
}
LEVELS: tuple[str, ...] = ("explicit", "paraphrased", "implicit")

KEYWORDS: dict[str, tuple[str, ...]] = {
    "helpless": ("helpless", "incompetent", "failure", "powerless", "weak", "trapped"),
    "unlovable": ("unlovable", "unwanted", "rejected", "alone", "unloved"),
    "worthless": ("worthless", "burden", "useless", "toxic", "bad person"),
    "anxious": ("anxious", "worried", "fearful", "scared", "tense"),
    "sad": ("sad", "lonely", "unhappy"),
    "angry": ("angry", "mad", "irritated", "annoyed"),
    "ashamed": ("ashamed", "humiliated", "embarrassed", "embarrassing"),
    "disappointed": ("disappointed", "disappointment", "let down"),
    "jealous": ("jealous", "envious"),
    "guilty": ("guilty", "guilt"),
    "hurt": ("hurt",),
    "suspicious": ("suspicious",),
}
"""The explicit words the keyword judge looks for (whole words of the lower-cased text)."""
STYLE_CUES: dict[str, tuple[str, ...]] = {
    "verbose": ("and another thing", "let me explain"),
    "tangent": ("anyway,", "by the way", "speaking of"),
    "upset": ("why are you", "this is pointless", "you don't get it"),
    "reserved": ("i guess.", "not much.", "i don't know."),
    "pleasing": ("you're right", "whatever you think", "thank you so much"),
}
"""Phrases the scripted patient adds per style and the keyword judge reads (plain: none)."""
STYLE_LINES: dict[str, str] = {
    "plain": "",
    "verbose": " And another thing, let me explain how the whole week went, day by day.",
    "tangent": " Anyway, by the way, my neighbour repainted his fence this weekend.",
    "upset": " Why are you asking me this? This is pointless.",
    "reserved": " I guess. Not much.",
    "pleasing": " You're right, whatever you think is best. Thank you so much.",
}
FILLER: tuple[str, ...] = (
    "The week was long.",
    "I went to the shop on Tuesday.",
    "The weather has been grey.",
    "I don't know where to start.",
    "Work is the same as always.",
)

# --- the pieces of generated cognitive models ------------------------------------------------

NAMES: tuple[str, ...] = (
    "Abe", "Bea", "Cal", "Dana", "Eli", "Fay", "Gus", "Hana", "Ira", "Jo",
    "Kai", "Lena", "Milo", "Nia", "Omar", "Pia", "Quin", "Rosa", "Sam", "Tess",
)  # fmt: skip
HISTORIES: tuple[str, ...] = (
    "Grew up with a critical parent whose approval depended on grades.",
    "Moved country at twelve and was teased at the new school.",
    "Cared for a sick parent through adolescence; little time for friends.",
    "A long relationship ended last year; lives alone since.",
    "Was laid off twice in three years; savings are running low.",
    "The youngest of five, often overlooked at home.",
    "Had a serious injury that ended a sports career at nineteen.",
    "A close friend died two years ago; has withdrawn since.",
)
INTERMEDIATE: dict[str, tuple[str, str]] = {
    "helpless": (
        "It's important to be competent and to manage on my own.",
        "If I try something hard, I'll fail; if I avoid it, I'll be okay.",
    ),
    "unlovable": (
        "It's important to be liked and to keep people close.",
        "If I show who I am, people will leave; if I keep to myself, I can't be rejected.",
    ),
    "worthless": (
        "It's important to be useful to others and not to ask for anything.",
        "If I ask for something, I'm a burden; if I give everything, I may be tolerated.",
    ),
}
COPING: dict[str, str] = {
    "helpless": "Avoids challenges and lets others decide.",
    "unlovable": "Withdraws from friends before they can withdraw from them.",
    "worthless": "Over-gives to others and neglects own needs.",
}
SITUATIONS: tuple[tuple[str, str, str], ...] = (
    (
        "Thinking about the unpaid bills.",
        "What if I can't pay them?",
        "Sits on the couch all evening.",
    ),
    (
        "A friend cancelled dinner at the last minute.",
        "They didn't really want to see me.",
        "Stays home and doesn't reply.",
    ),
    (
        "The manager asked for a report by Friday.",
        "I won't be able to do it right.",
        "Puts it off until Thursday night.",
    ),
    (
        "Seeing old classmates' news online.",
        "Everyone moved on except me.",
        "Scrolls for hours, then deletes the app.",
    ),
    (
        "Sister asked for help with her move.",
        "I should do it, I owe her.",
        "Cancels own plans and helps all weekend.",
    ),
    (
        "Waiting for a reply to a job application.",
        "They must have picked someone better.",
        "Checks email every few minutes.",
    ),
)
THERAPIST_PROMPTS: tuple[str, ...] = (
    "Hello, thank you for coming in. What brings you here today?",
    "Can you tell me about a recent situation that upset you?",
    "What went through your mind at that moment?",
    "How did you feel when that happened?",
    "What did you do then?",
    "What does that say about you, if it were true?",
    "How have things been with the people close to you?",
    "What would you like to be different by the end of our work together?",
)
"""The built-in scripted therapist's prompts (``script`` with these lines, ``cycle: true``)."""
