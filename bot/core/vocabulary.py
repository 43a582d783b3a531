"""The field's vocabulary: stop words, abbreviations and synonyms used by the ranking.

Phrases are matched on lowercase word tokens before stemming, longest first, and replaced by a
canonical token. Expansions add related terms to a query at a lower weight.
"""

from __future__ import annotations

STOP_WORDS = frozenset(
    """
    a about above after again all am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he her
    here hers herself him himself his how i i'd i'll i'm i've if in into is isn't it it's its
    itself let's me more most mustn't my myself no nor not of off on once only or other ought
    our ours ourselves out over own same shan't she should shouldn't so some such than that
    that's the their theirs them themselves then there there's these they they'd they'll they're
    they've this those through to too under until up very was wasn't we we'd we'll we're we've
    were weren't what what's whats when where which while who whom with won't would wouldn't
    you you'd you'll you're you've your yours yourself yourselves im ive dont cant wont didnt
    doesnt isnt hows also just really actually even still ever anyone someone something anything
    thing things get got getting go going want wanted wants need needs like kind sort lot lots
    much many good best better great way ways tips tip advice help please thanks thank hi hey
    hello know think feel feels felt make makes making one ones u ur pls plz etc ok okay yeah
    yes
    """.split()
)

# Multi-word and single-word forms mapped to one canonical token.
PHRASES: dict[tuple[str, ...], str] = {
    ("associate", "product", "manager"): "apm",
    ("associate", "product", "managers"): "apm",
    ("associate", "pm"): "apm",
    ("apms",): "apm",
    ("product", "operations"): "prodops",
    ("product", "ops"): "prodops",
    ("prod", "ops"): "prodops",
    ("productops",): "prodops",
    ("product", "manager"): "pm",
    ("product", "managers"): "pm",
    ("product", "management"): "pm",
    ("product", "mgr"): "pm",
    ("pms",): "pm",
    ("pm's",): "pm",
    ("operations",): "ops",
    ("operational",): "ops",
    ("operation",): "ops",
    ("op",): "ops",
    ("cv",): "resume",
    ("cvs",): "resume",
    ("resumes",): "resume",
    ("kpi",): "metric",
    ("kpis",): "metric",
    ("okr",): "okrs",
    ("impostor",): "imposter",
    ("coffee", "chat"): "coffeechat",
    ("coffee", "chats"): "coffeechat",
    ("informational", "interview"): "coffeechat",
    ("informational", "interviews"): "coffeechat",
    ("info", "interview"): "coffeechat",
    ("tear", "down"): "teardown",
    ("teardowns",): "teardown",
    ("case", "study"): "casestudy",
    ("case", "studies"): "casestudy",
    ("side", "project"): "sideproject",
    ("side", "projects"): "sideproject",
    ("user", "research"): "userresearch",
    ("customer", "research"): "userresearch",
    ("user", "interviews"): "userinterview",
    ("user", "interview"): "userinterview",
    ("customer", "interviews"): "userinterview",
    ("customer", "interview"): "userinterview",
    ("product", "sense"): "productsense",
    ("road", "map"): "roadmap",
    ("roadmaps",): "roadmap",
    ("supply", "chain"): "supplychain",
    ("customer", "success"): "customersuccess",
    ("scrum", "master"): "scrummaster",
    ("project", "manager"): "projectmanager",
    ("project", "management"): "projectmanager",
    ("program", "manager"): "programmanager",
    ("ux",): "userexperience",
    ("user", "experience"): "userexperience",
    ("day", "to", "day"): "daytoday",
    ("prioritisation",): "prioritization",
    ("prioritise",): "prioritize",
    ("prioritising",): "prioritizing",
    ("prioritised",): "prioritized",
    ("organisation",): "organization",
    ("my", "company"): "internal",
    ("my", "current", "company"): "internal",
    ("current", "company"): "internal",
    ("my", "employer"): "internal",
    ("current", "employer"): "internal",
    ("my", "current", "employer"): "internal",
    ("my", "org"): "internal",
    ("my", "organization"): "internal",
    ("my", "organisation"): "internal",
    ("where", "i", "work"): "internal",
    ("talk", "to", "customers"): "userinterview",
    ("talk", "to", "users"): "userinterview",
    ("talking", "to", "customers"): "userinterview",
    ("talking", "to", "users"): "userinterview",
    ("speak", "to", "customers"): "userinterview",
    ("speak", "with", "customers"): "userinterview",
    ("talk", "with", "customers"): "userinterview",
    ("talk", "with", "users"): "userinterview",
    ("behavioral", "interview"): "behavioralinterview",
    ("behavioral", "interviews"): "behavioralinterview",
    ("behavioural", "interview"): "behavioralinterview",
    ("behavioural", "interviews"): "behavioralinterview",
    ("behavioral", "questions"): "behavioralinterview",
    ("tell", "me", "about", "a", "time"): "behavioralinterview",
    ("star", "method"): "behavioralinterview",
    ("star", "format"): "behavioralinterview",
    ("star", "stories"): "behavioralinterview",
    ("hiring", "manager"): "hiringmanager",
    ("hiring", "managers"): "hiringmanager",
    ("executors",): "execution",
    ("executor",): "execution",
    ("executing",): "execution",
    ("doer",): "execution",
    ("doers",): "execution",
    ("order", "taker"): "execution",
    ("order", "takers"): "execution",
    ("analyse",): "analyze",
    ("behaviour",): "behavior",
}

# A query that says one of these also asks, more faintly, about the related terms.
EXPANSIONS: dict[str, tuple[str, ...]] = {
    "coffeechat": ("networking", "pm"),
    "networking": ("coffeechat",),
    "network": ("coffeechat",),
    "apm": ("pm", "program"),
    "prodops": ("pm", "ops"),
    "teardown": ("portfolio",),
    "casestudy": ("portfolio",),
    "sideproject": ("portfolio",),
    "portfolio": ("teardown", "casestudy"),
    "resume": ("bullet", "reframe"),
    "metric": ("outcome", "measure"),
    "imposter": ("confidence", "doubt"),
    "userinterview": ("userresearch", "discovery"),
    "userresearch": ("userinterview", "discovery"),
    "empathy": ("userresearch", "user"),
    "roadmap": ("prioritization", "vision"),
    "prioritization": ("tradeoff", "roadmap"),
    "tradeoff": ("prioritization",),
    "switch": ("transition", "career"),
    "transition": ("switch",),
    "scrummaster": ("projectmanager", "prodops"),
    "projectmanager": ("prodops", "delivery"),
    "programmanager": ("projectmanager", "delivery"),
    "productsense": ("interview",),
    "mba": ("degree", "apm"),
    "internal": ("transfer", "internally", "company"),
    "hiringmanager": ("interview", "recruiter", "hire"),
    "behavioralinterview": ("interview", "story", "stories", "star"),
    "execution": ("execute", "strategy", "executor"),
    "missing": ("gap", "lack"),
    "gap": ("missing", "lack"),
    "awkward": ("nervous", "uncomfortable"),
    "fraud": ("imposter",),
}

# Field jargon that must never be "corrected" into a nearby index word ("saas" is not "slas").
JARGON = frozenset(
    """
    saas paas iaas b2b b2c b2b2c d2c dtc api apis sdk sql nosql etl crm erp wms tms oms sla slas
    okr okrs kpi kpis nps csat ces mrr arr arpu ltv cac dau mau wau gmv aov roi p&l pnl mvp mlp
    prd prds brd ux ui cx qa uat ab a/b rice moscow kano jtbd gtm pmf tam sam som icp sop s&op
    agile scrum kanban jira asana figma miro notion looker tableau amplitude mixpanel heap
    llm llms genai ai ml rag gpt chatgpt copilot pmp prince2 csm cspo pmi cpim cscp apics
    lean sixsigma 3pl 4pl ltl ftl otif dc dcs fba sku skus rfp rfq po pos capex opex apm apms
    tpm tpms gpm spm pmm pmms cpo vp svp ceo cto coo cfo ic ics faang maang mba emba
    """.split()
)

# Words that mark a question as being about careers in product and operations. A question with
# none of them (after typo correction) is declined however well its other words match, so "best
# running shoes for beginners" does not land on a snippet that happens to say "beginners".
DOMAIN_WORDS = frozenset(
    """
    product products pm ops apm prodops pmm tpm po career careers job jobs role roles switch
    switching switcher transition transitioning pivot move moving hire hiring hired recruiter
    recruiters interview interviews interviewer interviewing resume portfolio portfolios
    teardown casestudy sideproject userresearch userinterview productsense roadmap coffeechat
    network networking linkedin mentor mentors referral referrals stakeholder stakeholders
    strategy strategic vision mission market markets competitor competitors competitive
    competition positioning metric metrics outcome outcomes measure measuring kpi okrs
    adoption retention activation engagement churn conversion funnel analytics data
    experiment experiments hypothesis prioritization prioritize prioritizing prioritized
    tradeoff tradeoffs backlog feature features requirements prd spec specs launch launches
    ship shipping shipped mvp discovery research customer customers user users empathy
    persona personas feedback usability friction pain problem problems solution solutions
    process processes efficiency supplychain logistics fulfilment fulfillment warehouse
    customersuccess support operations bizops analyst analysts scrummaster projectmanager
    programmanager delivery agile scrum sprint engineering engineers design designers
    internal hiringmanager behavioralinterview imposter confidence doubt narrative story stories storytelling whether why mba degree
    bootcamp course certification certificate apprenticeship internal internally transfer
    promotion manager managers leadership executive executives skills skill transferable
    execution executor executors stretch ownership accountable accountability decision
    decisions judgment senior junior associate entry level salary offer framework frameworks
    scoring
    """.split()
)
