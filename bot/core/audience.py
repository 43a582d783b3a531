"""Members' backgrounds: the many ways people name where they come from.

Snippets may carry `audience` tags (`logistics`, `supply-chain`, `support`...). A member who
says "I run a fulfilment centre" or "ex army supply officer" names a background without using
any tag. Both sides are mapped onto the same canonical backgrounds, so the ranking can prefer a
snippet written for the member's background among answers that fit the question about equally.
"""

from __future__ import annotations

from bot.core.text import words

# Canonical background -> ways people say it (lowercase words; matched as whole word runs).
BACKGROUNDS: dict[str, tuple[str, ...]] = {
    "logistics": (
        "logistics",
        "fulfilment",
        "fulfillment",
        "fulfilment centre",
        "fulfillment center",
        "warehouse",
        "warehousing",
        "dc",
        "distribution centre",
        "distribution center",
        "3pl",
        "linehaul",
        "line haul",
        "last mile",
        "freight",
        "trucking",
        "transport",
        "transportation",
        "carrier",
        "carriers",
        "dispatch",
        "dispatcher",
        "shipping",
        "inbound",
        "outbound",
        "picking",
        "pick pack",
        "wms",
        "yard",
        "fleet",
        "courier",
        "delivery ops",
        "parcel",
        "depot",
    ),
    "supply-chain": (
        "supply chain",
        "supplychain",
        "scm",
        "demand planning",
        "demand planner",
        "inventory",
        "s&op",
        "sop planning",
        "planner",
        "planning analyst",
        "replenishment",
        "sourcing",
        "procurement",
        "purchasing",
        "buyer",
        "category manager",
    ),
    "procurement": (
        "procurement",
        "purchasing",
        "sourcing",
        "buyer",
        "vendor management",
        "vendor negotiations",
        "supplier management",
        "suppliers",
        "category manager",
        "strategic sourcing",
    ),
    "support": (
        "support",
        "customer support",
        "contact centre",
        "contact center",
        "call centre",
        "call center",
        "helpdesk",
        "help desk",
        "service desk",
        "customer service",
        "cx",
        "support agent",
        "support team",
        "tier 1",
        "tier 2",
        "escalations",
        "ticket queue",
        "tickets",
        "zendesk",
    ),
    "customer-success": (
        "customer success",
        "customersuccess",
        "csm",
        "cs",
        "cs lead",
        "cs team",
        "account management",
        "account manager",
        "onboarding specialist",
        "renewals",
    ),
    "bizops": (
        "bizops",
        "business operations",
        "biz ops",
        "strategy and operations",
        "strategy & ops",
        "revops",
        "revenue operations",
        "sales ops",
        "sales operations",
        "operations analyst",
        "ops analyst",
    ),
    "military": (
        "army",
        "military",
        "navy",
        "air force",
        "armed forces",
        "veteran",
        "veterans",
        "marines",
        "soldier",
        "supply officer",
        "logistics officer",
        "nco",
    ),
    "manufacturing": (
        "manufacturing",
        "factory",
        "production line",
        "shop floor",
        "six sigma",
        "quality engineer",
    ),
}

# Backgrounds that imply another (army logistics officers read logistics snippets too).
IMPLIES: dict[str, tuple[str, ...]] = {
    "military": ("logistics",),
    "procurement": ("supply-chain",),
}

_PHRASES: dict[tuple[str, ...], frozenset[str]] = {}
for _background, _names in BACKGROUNDS.items():
    for _name in _names:
        key = tuple(words(_name.replace("&", " and ")))
        _PHRASES[key] = _PHRASES.get(key, frozenset()) | {_background}
_LONGEST = max(len(k) for k in _PHRASES)


def backgrounds_in(text: str) -> frozenset[str]:
    """The canonical backgrounds a text names, longest phrases first."""
    tokens = words(text.replace("&", " and ").replace("-", " ").replace("/", " "))
    found: set[str] = set()
    i = 0
    while i < len(tokens):
        for size in range(min(_LONGEST, len(tokens) - i), 0, -1):
            named = _PHRASES.get(tuple(tokens[i : i + size]))
            if named is not None:
                found |= named
                i += size
                break
        else:
            i += 1
    for background in list(found):
        found.update(IMPLIES.get(background, ()))
    return frozenset(found)


def audience_backgrounds(tags: tuple[str, ...]) -> frozenset[str]:
    """Canonical backgrounds of a snippet's audience tags; unknown tags stand for themselves."""
    out: set[str] = set()
    for tag in tags:
        slug = "-".join(words(tag.replace("_", " ")))
        if slug in BACKGROUNDS:
            out.add(slug)
            continue
        named = backgrounds_in(tag)
        out |= named or {slug}
    return frozenset(out)
