"""NISIRA's ratings: its words for like and dislike, its issue tags, and how "auto" picks a tag."""

import unicodedata

CLEAR = "clear"
FEEDBACK_TYPES = {"like": "positive", "dislike": "negative"}
RATINGS = {feedback_type: rating for rating, feedback_type in FEEDBACK_TYPES.items()}
RATING_VALUES = (*FEEDBACK_TYPES, CLEAR)
NO_ISSUE = "none"
OTHER_ISSUE = "otro"
AUTO_ISSUE = "auto"
ISSUE_TAGS = (NO_ISSUE, "irrelevante", "sin_evidencia", "tardio", "alucinacion", "accion_incorrecta", OTHER_ISSUE)

# What issue_tag "auto" looks for in the comment, lower-cased and without accents; the first tag that
# matches wins, none means "otro". The first four lists are NISIRA's own (it has none for
# accion_incorrecta), widened with the words Spanish speakers use for the same complaint.
AUTO_ISSUE_KEYWORDS = (
    ("irrelevante", ("irrelev", "fuera de contexto", "no tiene que ver", "no responde a")),
    ("sin_evidencia", ("sin fuente", "sin evidencia", "no cites", "no cita", "sin referencia", "sin respaldo")),
    ("tardio", ("tard", "lento", "demor")),
    ("alucinacion", ("alucina", "invent", "incorrecto", "falso")),
    ("accion_incorrecta", ("accion incorrecta", "accion equivocada", "no hizo lo que", "no es lo que pedi",
                           "no era lo que pedi", "hizo otra cosa")),
)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def pick_issue_tag(comment: str | None) -> str:
    """The issue tag that a comment's keywords point at, as NISIRA's "auto" picks it."""
    folded = fold(comment or "")
    for tag, keywords in AUTO_ISSUE_KEYWORDS:
        if any(keyword in folded for keyword in keywords):
            return tag
    return OTHER_ISSUE
