"""Which career a question is about: product management, or somewhere else.

Word-averaged embeddings see "how do I move into product management from a call centre" and
"how do I move into marketing from customer service" as near twins: the background words
dominate and the one word that decides scope is averaged away. So the answer model also reads
two plain facts about the question:

- it names product management as where the member wants to go ("become a PM", "move into
  product management", "a product role"), not negated ("I don't think product is for me") and
  not in the shop sense ("product photos");
- it names another career as where the member wants to go ("become a scrum master", "hired as a
  data analyst", "a UX bootcamp"), or a credential that belongs to one (PMP, PRINCE2, SHRM).

A role named as where someone is now ("I'm a project manager in a 3PL") or as somebody else ("a
gift for our product manager") is not a destination.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.text import words

# Other careers, by the names people give them (matched as whole word runs, longest first).
CAREERS: dict[str, tuple[str, ...]] = {
    "project management": (
        "project manager",
        "project managers",
        "project management",
        "project coordinator",
        "project management professional",
    ),
    "scrum and agile coaching": ("scrum master", "scrum masters", "agile coach", "agile coaching"),
    "business analysis": ("business analyst", "business analysts", "business analysis"),
    "data and analytics": (
        "data analyst",
        "data analysts",
        "data analytics",
        "data analysis",
        "data scientist",
        "data science",
        "data engineer",
        "data engineering",
        "bi analyst",
        "bi developer",
        "analytics engineer",
        "business intelligence analyst",
    ),
    "software engineering": (
        "software engineer",
        "software engineering",
        "software developer",
        "developer",
        "programmer",
        "web developer",
        "web development",
        "frontend developer",
        "front end developer",
        "backend developer",
        "back end developer",
        "full stack developer",
        "devops engineer",
        "cloud engineer",
        "qa tester",
        "qa engineer",
        "software tester",
        "coding",
        "coder",
    ),
    "design": (
        "ux designer",
        "ux design",
        "ui designer",
        "ui design",
        "ux ui",
        "ui ux",
        "ux researcher",
        "ux research",
        "graphic designer",
        "graphic design",
        "product designer",
        "product design",
        "interaction designer",
        "service designer",
    ),
    "marketing": (
        "marketing",
        "marketer",
        "digital marketing",
        "product marketing",
        "product marketing manager",
        "seo specialist",
        "growth marketer",
    ),
    "sales": (
        "sales",
        "account executive",
        "account manager",
        "business development",
        "sales engineer",
        "solutions engineer",
        "presales",
        "pre sales",
    ),
    "customer success": ("customer success manager", "customer success"),
    "hr and recruiting": (
        "recruiter",
        "recruiting",
        "recruitment",
        "human resources",
        "hr",
        "talent acquisition",
        "hr business partner",
        "people partner",
    ),
    "finance": ("accountant", "accounting", "financial analyst", "finance", "bookkeeper"),
    "consulting": ("consultant", "consulting", "management consultant", "management consulting"),
    "operations management": (
        "operations manager",
        "ops manager",
        "warehouse manager",
        "logistics manager",
        "supply chain manager",
        "supply chain analyst",
        "procurement manager",
        "buyer",
        "transport manager",
        "site manager",
        "general manager",
        "plant manager",
        "team leader",
        "team lead",
        "shift manager",
        "supervisor",
    ),
    "it and security": (
        "cybersecurity",
        "cyber security",
        "security analyst",
        "it support",
        "sysadmin",
        "network engineer",
        "help desk",
    ),
    "teaching": ("teacher", "teaching"),
}

# Credentials that belong to another career: naming one is asking about that career.
CREDENTIALS: dict[str, tuple[str, ...]] = {
    "project management": ("pmp", "prince2", "capm", "prince 2"),
    "hr and recruiting": ("shrm", "shrm cp", "phr", "cipd"),
    "operations management": (
        "six sigma",
        "lean six sigma",
        "green belt",
        "black belt",
        "cscp",
        "cpim",
        "apics",
        "cpsm",
        "cips",
    ),
    "finance": ("cpa", "acca", "cfa", "cima"),
    "it and security": ("itil", "ccna", "comptia", "cissp"),
}

# Words just before a role that make it a destination ("become a", "switch into", "hired as").
DESTINATION_CUES = frozenset({
    "become", "becoming", "into", "retrain", "retraining", "hired", "transition",
    "transitioning", "transitioned", "pivot", "pivoting", "switch", "switching", "move", "moving",
    "career", "careers", "apply", "applying", "land", "landing", "toward", "towards", "aspiring",
    "pursue", "pursuing", "wannabe", "be", "want", "wants", "wanting",
})  # fmt: skip
# Words just after a role that make it a destination ("a UX bootcamp", "data analyst roles").
DESTINATION_AFTER = frozenset(
    {
        "bootcamp",
        "bootcamps",
        "course",
        "courses",
        "certification",
        "certifications",
        "cert",
        "certs",
        "certificate",
        "certificates",
        "degree",
        "degrees",
        "qualification",
        "diploma",
        "interview",
        "interviews",
        "openings",
        "vacancies",
        "jobs",
        "roles",
        "career",
    }
)
# After a name of product management, these too: "a PM role", "an APM programme", "PM experience"
# (for another career they as often name the job someone has now: "my warehouse manager job").
PRODUCT_AFTER = DESTINATION_AFTER | {
    "role", "job", "position", "positions", "title", "hire", "hiring", "offer", "program",
    "programme", "programs", "programmes", "scheme", "track", "experience", "opening",
}  # fmt: skip
DESTINATION_WINDOW = 4

# Product management, by the names people give it; each is a destination only with a cue around it.
PRODUCT_ROLES = frozenset({
    ("pm",), ("pms",), ("apm",), ("apms",), ("tpm",), ("cpo",), ("pmm",),
    ("product", "manager"), ("product", "managers"), ("product", "management"),
    ("product", "owner"), ("product", "owners"), ("product", "ops"), ("product", "operations"),
    ("product", "analyst"), ("product", "lead"), ("product", "leader"), ("product", "role"),
    ("product", "roles"), ("product", "job"), ("product", "jobs"), ("product", "career"),
    ("product", "team"), ("product", "teams"), ("product", "org"), ("product", "side"),
    ("product", "person"), ("product", "people"), ("product", "position"),
    ("product", "folks"), ("head", "of", "product"), ("vp", "product"),
})  # fmt: skip
# Names of product management that say by themselves that it is where the member is heading.
PRODUCT_DESTINATIONS = frozenset({
    ("into", "product"), ("to", "product"), ("in", "product"), ("product", "role"),
    ("product", "roles"), ("product", "job"), ("product", "jobs"), ("product", "career"),
    ("product", "careers"), ("product", "position"), ("product", "title"), ("product", "hire"),
    ("product", "hiring"), ("product", "interview"), ("product", "interviews"),
    ("product", "opening"), ("product", "openings"), ("product", "side"),
})  # fmt: skip
# "in product photos", "to product pages": product in the shop sense.
SHOP_WORDS = frozenset({
    "photo", "photos", "photography", "page", "pages", "listing", "listings", "description", "descriptions", "recall", "recalls", "label", "labels", "packaging", "image",
    "images", "shots", "samples", "liability", "codes", "sku", "skus", "catalogue", "catalog",
})  # fmt: skip
NEGATIONS = frozenset({"not", "don't", "dont", "never", "no", "isn't", "isnt", "without"})
NEGATION_WINDOW = 3


@dataclass(frozen=True, slots=True)
class Aim:
    """What a question names as its career: product management, and any other destination."""

    product: bool
    """Product management is named as where the member is heading."""
    elsewhere: tuple[str, ...]

    @property
    def other_career(self) -> bool:
        """Another career is where the member wants to go, and product management is not."""
        return bool(self.elsewhere) and not self.product


NO_AIM = Aim(product=False, elsewhere=())


def _phrases(table: dict[str, tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    return {tuple(words(name)): career for career, names in table.items() for name in names}


_CAREER_PHRASES = _phrases(CAREERS)
_CREDENTIAL_PHRASES = _phrases(CREDENTIALS)
_LONGEST = max(
    len(p) for p in (*_CAREER_PHRASES, *_CREDENTIAL_PHRASES, *PRODUCT_ROLES, *PRODUCT_DESTINATIONS)
)


def aim_of(text: str) -> Aim:
    """The careers a question names as where the member is heading."""
    tokens = words(text.replace("-", " ").replace("/", " ").replace("&", " and "))
    product = False
    elsewhere: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(_LONGEST, len(tokens) - i), 0, -1):
            run = tuple(tokens[i : i + size])
            before = tokens[max(0, i - DESTINATION_WINDOW) : i]
            after = tokens[i + size : i + size + 2]
            cued = bool(DESTINATION_CUES & set(before)) or _from_to(tokens, i)
            if run in PRODUCT_ROLES or run in PRODUCT_DESTINATIONS:
                if SHOP_WORDS & set(after[:1]):
                    i += size
                    break
                negated = NEGATIONS & set(tokens[max(0, i - NEGATION_WINDOW) : i])
                heading = cued or bool(PRODUCT_AFTER & set(after))
                if not negated and (run in PRODUCT_DESTINATIONS or heading):
                    product = True
            elif run in _CREDENTIAL_PHRASES:
                elsewhere.append(_CREDENTIAL_PHRASES[run])
            elif run in _CAREER_PHRASES:
                if cued or DESTINATION_AFTER & set(after):
                    elsewhere.append(_CAREER_PHRASES[run])
            else:
                continue
            i += size
            break
        else:
            i += 1
    return Aim(product, tuple(dict.fromkeys(elsewhere)))


def _from_to(tokens: list[str], at: int) -> bool:
    """A "to" just before, with a "from" ahead of it: "from ops manager to associate PM"."""
    before = tokens[max(0, at - DESTINATION_WINDOW) : at]
    if "to" not in before:
        return False
    to = at - len(before) + before.index("to")
    return "from" in tokens[:to]
