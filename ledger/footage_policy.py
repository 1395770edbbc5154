"""The camera and footage rules (R12-R17): placement, audio, signage, who may view
archived footage and why, retention, purge and the release of holds.

Pure functions like the rest of the policy engine (``ledger.policy``): no I/O, no clock
(``now`` is passed in), standard library only; each returns a :class:`Decision`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from ledger import rules as r
from ledger import sitetime
from ledger.policy import Decision, Flag, Hold, allow, refuse
from ledger.rules import Rule
from ledger.text import counted

PRIVACY_ZONES: frozenset[str] = frozenset(
    {"restroom", "locker_room", "changing_room", "private_office"}
)
ARCHIVE_ROLES: frozenset[str] = frozenset({"director", "business_manager"})
# Policy V-B: "Recorded footage is secured in a controlled area for thirty days." A
# parameter of the adopted policy (R13, R28), not a setting.
MIN_RETENTION_DAYS = 30
# How far ahead a flag (or one extension of it) may keep footage (R13).
FLAG_MAX_DAYS = 90
_ROLE_ORDER = ("director", "business_manager", "staff", "counsel")
Purpose = Literal[
    "incident_investigation",
    "safety",
    "law_enforcement_request",
    "legal_hold_review",
    "foia_review",
    "other",
]
PURPOSES: frozenset[str] = frozenset(
    {
        "incident_investigation",
        "safety",
        "law_enforcement_request",
        "legal_hold_review",
        "foia_review",
        "other",
    }
)
_STAFF = (
    r"(?:staff(?: members?)?|staffers?|employees?|workers?|personnel|clerks?|co-?workers?"
    r"|librarians?|shelvers?|pages?"
    r"|(?:desk|circulation|reference|front desk|evening|morning|night) (?:team|crew|shift)s?"
    r"|team members?|new hires?|hires|volunteers?|interns?|aides?|custodians?|janitors?"
    # red team, session 17: job titles the list lacked
    r"|(?:desk|circulation|library|reference|front desk) (?:assistants?|persons?|people"
    r"|attendants?|workers?)|assistants?|closers?|openers?"
    # helper-76, session 21: "Was the security guard at his post?", "the page" alone
    r"|(?:security )?guards?|receptionists?|supervisors?|managers?|associates?|cashiers?"
    r"|coordinators?|techs?|technicians?|specialists?)"
)
# A staff word that describes a place or thing, not a person ("the staff entrance", "the
# staff lot"): not a member of staff watched (helper-76, session 21).
_NOT_PERSON = (
    r"(?!'s\b)(?! (?:entrance|entry|door|lot|parking|room|area|kitchen|lounge|restroom"
    r"|bathroom|break|exit|car|vehicle|only|side|stair|elevator|badge|uniform|directory"
    r"|meeting|locker)s?\b)"
)
# Evaluating how staff do their work, said of staff before or after (policy red team,
# session 16: "annual review of the desk team", "assess customer service quality" and
# "dress code compliance" passed). Watching, handling the line, greeting and a member of
# staff's manner are not here: they count only when staff are the ones watched or asked
# about (_WATCHING, _MANNER, _DUTY), since incidents use them too ("Clerk was handling
# the checkout line when a man grabbed the cash box": helper-76).
_EVAL = (
    r"(?:evaluat\w*|apprais\w*|performance|productiv\w*|attendance"
    r"|punctual\w*|timekeeping|tardiness|late(?:ness)?|breaks?|disciplin\w*|conduct review"
    r"|doing (?:their|his|her) jobs?|working hard|hardly working"
    r"|(?:annual|yearly|job|work|staff) reviews?|rat(?:e|ing) (?:their|his|her)"
    # "customer service", not the customer service desk where a chair was thrown
    r"|customer service(?! (?:desks?|counters?|areas?|points?|stations?|windows?))"
    r"|dress code|doing (?:it|things) right)"
)
# Who is asked about (helper-75's red team, session 20: "Did the man approach the clerk
# at her desk?" was refused, "Did Ms. Lopez, the clerk, leave her post?" passed). A
# member of staff is the one asked about, watched or shown when only these come between
# the asking word and the staff word: articles and possessives, describing words of a
# post or shift, days and times, "footage of", and capitalised words (a name: "did Ms
# Lopez, the clerk, ..."). "the man", "the patron" or "the ambulance" ends it.
_THE = (
    r"(?:the|a|an|our|your|their|his|her|its|any|each|every|that|this|these|those|all|some"
    r"|both|either|neither|one|two|three|several|of|new|same|other|only|head|senior|junior"
    r"|me|us|anyone|anybody|someone|somebody|nobody|none|from|there|my"
    r"|lead|regular|part-?time|full-?time|evening|morning|afternoon|night|weekend|day"
    r"|desk|circ|circulation|reference|front|children'?s|youth|teen|adult|branch|library"
    r"|main|substitute|temporary|on|at|in|after|before|during|today|yesterday|tonight"
    r"|last|next|week|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|\d[\w:]*|am|pm|noon"
    r"|footage|video|recordings?|clips?|images?|camera|for|from|security|services?"
    r"|(?-i:[A-Z][\w'-]*))"
)
_SUBJECT = rf"[^\w.;?!]+(?:{_THE}[^\w.;?!]+){{0,6}}?"
# Between a member of staff asked about and what is asked of them, when it must follow
# at once: being, an adverb or a name ("was the clerk really at her desk", "are staff
# actually working", "did the clerk ever leave the desk", "was the clerk Maria at her desk").
_TIGHT = (
    r"(?:'s)?(?:[^\w.;?!]+(?:was|were|is|are|be|been|being|actually|really|ever|often"
    r"|still|even|just|always|usually|sometimes|not|then|also|truly|already|spen[dt]\w*|time"
    r"|doing|(?-i:[A-Z][\w'-]*))){0,3}[^\w.;?!]+"
)
# What may follow where a member of staff was, up to the end of the clause: when, how
# long or how often ("Was the clerk at the desk on Tuesday at 4?", "Clerk away from desk
# too much"), or nothing. Anything else makes the place a description ("Did the clerk
# at the reference desk see the man?", "Was the librarian on duty hurt?": helper-76).
_UNTIL = (
    r"(?:[^\w.;?!]+(?:on|at|between|from|to|and|before|after|by|until|till|around|about"
    r"|this|last|every|each|today|yesterday|tonight|morning|afternoon|evening|night|week"
    r"|weekend|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|\d[\w:]*|am|pm|noon|midnight"
    r"|opening|closing|close|open|o'?clock|again|often|usually|always|ever|too|much|long"
    r"|enough|lately|recently|anymore|all|the|a|an|her|his|their|time|times|minutes?|min"
    r"|hours?|for|desks?|counters?|posts?|stations?|floor|work|job|shift|day))*"
    r"[^\w.;?!]*(?:[.;?!)\n]|$|,?\s(?:or|instead|rather)\b)"
)
_PLACE_NOUN = (
    r"(?:desks?|posts?|stations?|counters?|floor|registers?|building|work|job"
    r"|(?:back|staff|break|lunch) ?rooms?|lounge|kitchen|restrooms?|bathrooms?|office)"
)
# Where a member of staff was, or what they were doing instead of their work, asked of
# them and ending the clause.
_PLACE = (
    r"(?:(?:at|on|behind|staffing|covering|manning|away from|gone from|absent from|off"
    rf"|not at|in|out of) (?:(?:the|their|his|her|its) )?(?:\w+ ){{0,2}}?{_PLACE_NOUN}"
    r"|working|at work|on duty|on shift|on time|gone|away|absent|late|early|there|here"
    r"|around|asleep|sleeping|napping|dozing"
    r"|on (?:the |their |his |her |a )?(?:(?:cell |smart )?phones?|facebook|instagram|tiktok"
    r"|social media|computers?|laptops?|internet|web|breaks?|lunch|personal calls?)"
    r"|(?:leav\w*|left|abandon\w*) (?:the|their|his|her) (?:\w+ ){0,2}?(?:desks?|posts?"
    r"|stations?|counters?|floor))"
)
# How a member of staff behaved at work, asked of them at once ("Was the clerk rude to
# the patron?", "How did the clerk treat the patron?"), or told of them as a complaint
# ("Complaint: clerk rude to patron": _BAD_MANNER).
_BAD_MANNER = (
    r"(?:rude|impolite|discourteous|unfriendly|unhelpful|unprofessional\w*|chatting"
    r"|socializ\w*|goofing|slacking|loafing|wasting time|stealing time|hanging out"
    r"|sitting around|napping|dozing|asleep|sleeping on the job"
    r"|ignor\w* (?:the |a )?(?:patrons?|customers?|people|visitors?|line|queue|phones?)"
    r"|yell\w* at (?:a |the )?(?:patrons?|customers?|people|visitors?))"
)
_MANNER = (
    rf"(?:{_BAD_MANNER}|polite|courteous|friendly|helpful|professional\w*|treat\w*"
    r"|stay\w* (?:until|till|to|through|past) (?:the )?(?:close|closing|end|\d)"
    r"|reading|(?:just )?sitting|pulling (?:their|his|her) weight|doing anything"
    r"|doing (?:their|his|her) jobs?|(?:work|worked|working) (?:their|his|her) (?:full )?"
    r"(?:hours|shifts?)|using (?:the |a |her |his |their )?(?:computer|internet|phone)s?"
    r"|wearing (?:ear ?buds|headphones)|eat\w* at (?:the|her|his|their) (?:desk|counter|station)"
    r"|taking (?:too many|long|extra|so many) \w+)"
)
# Doing one's job as told: on time, at one's post, by the procedure, as assigned (red
# team, session 18). Such words describe incidents too ("staff followed the lockdown
# protocol", "injured while performing her duties", "asked to leave the desk": the
# session's own review), so they are staff monitoring only when the purpose asks whether
# a member of staff did so ("whether the clerk followed the procedure", "when did the
# librarian leave her post"), within a few words of the member asked about.
_DUTY = (
    r"(?:(?:at work|in|on duty|at (?:the|their|his|her) (?:desks?|posts?|stations?)) on time"
    r"|(?:arriv\w*|came in|showed up|clocked in|got in) on time"
    r"|(?:show\w* up|came in|come in|report\w*) (?:for|to) (?:work|(?:their|his|her) shifts?)"
    r"|(?:leav\w*|left|away from) (?:their|his|her) (?:posts?|desks?|stations?|counters?)"
    r"|(?:leav\w*|left|away from) the (?:sales |public |service )?floor"
    r"|abandon\w* (?:their|his|her|the) (?:posts?|desks?|stations?|counters?)"
    r"|(?:leav\w*|left) (?:the|their|his|her) (?:desks?|posts?|stations?|counters?) unattended"
    r"|follow\w* (?:the )?(?:\w+ ){0,3}?(?:procedures?|protocols?|instructions|checklists?"
    r"|polic(?:y|ies)|rules|routines?|guidelines|steps|scripts?)"
    r"|as (?:assigned|instructed|scheduled|required|expected|trained)"
    # session 20, a red team of the asked words: anything done on time, "sharp" or
    # correctly (not "properly", "asleep", "turn up" or "interaction with": helper-75
    # found incidents refused by them, "check when staff found the man asleep")
    r"|on time|sharp|correctly"
    r"|(?:do|does|did|doing|complet\w*|finish\w*|perform\w*|neglect\w*|skip\w*)"
    r" (?:the|their|his|her) (?:\w+ ){0,2}?(?:tasks?|duties|chores|routines?|checklists?|rounds)"
    r"|cash handling|greet\w* (?:patrons|customers|visitors|people|everyone)"
    r"|handl\w* (?:the )?(?:\w+ )?(?:checkout|line|queue|desk|patrons|customers|complaints?"
    r"|transactions?)|process\w* (?:the )?(?:returns|checkouts|holds)"
    r"|count\w* (?:the |her |his |their )?(?:cash )?(?:drawers?|tills?|registers?)"
    r"|clos\w* out (?:the )?(?:registers?|drawers?|tills?))"
)
# Asking: a verb of checking or finding out, "whether" or "if", or a question's first
# word ("did the clerk...", "was the desk...", "which clerk..."; not "was", "did", "who"
# or "when" inside a narrative: "a man was yelling at the clerk who left her post", "when
# the clerk left the desk a man grabbed"). A question starts a text, a sentence, a clause
# after a comma, a dash, a quotation or a line (the session 19 review: "Patron complaint,
# did the clerk leave her post?" passed; helper-75: "Patron complaint - did...").
_QUESTION_START = r"(?:^|(?<=[.;:?!(,\"'\n\-\u2013\u2014])|(?<=[.;:?!(,\"'\n\-\u2013\u2014] ))"
_AUX = r"(?:did|does|do|was|were|is|are|has|have|had)(?:n't)?"
_CHECK = (
    r"(?:check\w*|see|confirm\w*|verify\w*|make sure|ensure|review\w*|audit\w*|assess\w*"
    r"|determin\w*|find\w* out|establish\w*|identif\w*|show\w*|look\w* (?:at|into)|track\w*"
    r"|(?:footage|video|recordings?|clips?|images?|pictures?) (?:of|showing))"
)
_WHEN = r"(?:when|why|where|what(?: \w+){0,2}?|how(?: \w+){0,3}?)"
_ASKING = (
    rf"(?:{_QUESTION_START}(?:(?:{_WHEN} )?{_AUX}|who)|which|whether|if"
    rf"|how often|how long|how many times|{_CHECK}(?: {_WHEN})?)"
)
# A complaint or report about a member of staff, told rather than asked ("Complaint:
# clerk rude to patron", "Patron says clerk was rude, check footage": helper-76).
_TOLD = (
    rf"(?:{_QUESTION_START}|\b(?:says?|said|claims?|claimed|reports?|reported|complain\w*"
    r"|alleg\w*)(?: that)?[^\w.;?!]+)(?:(?:the|a|an|our|one|new|evening|morning|night"
    r"|desk|front|circ|circulation|reference|(?-i:[A-Z][\w'-]*))[^\w.;?!]+){0,3}?"
)
# Between a member of staff and what is asked of them: up to four words, within one
# sentence ("Review incident. When the clerk left the desk a man grabbed a laptop" asks
# nothing about the clerk), and not "who" ("a patron who hit the clerk who left her post").
_ASKED = r"[^\w.;?!]+(?:(?!who\b|whom\b|whose\b)\w+[^\w.;?!]+){0,4}?"
_TIMES = r"(?:arrival|departure|start|finish|clock-?in|clock-?out) times?"
# Asked for, or named as the purpose itself at its start ("clerk arrival time on Monday").
_ASKED_OR_NAMED = rf"(?:\b{_ASKING}{_SUBJECT}|{_QUESTION_START}(?:{_THE}[^\w.;?!]+){{0,6}}?)"
# Arriving and leaving, asked when ("What time did the clerk get in this morning?"), or
# asked with a time ("Did the clerk leave at 4:30 instead of 5?": helper-76).
_COMINGS = (
    r"(?:get|got|come|came|arriv\w*|show\w* up|clock\w* (?:in|out)|leav\w*|left|go home"
    r"|went home|start\w*|finish\w*|stay\w*)"
)
_AT_A_TIME = (
    r"(?:[^\w.;?!]+(?:the|building|work|home|for|in|out|up|library|\w+ly)){0,3}[^\w.;?!]+"
    r"(?:at|by|before|after|until|till|around|past) (?:\d|noon|close|closing|open|opening"
    r"|midnight)"
)
# Watching staff: an imperative, a purpose ("to monitor...") or a question, with staff
# the ones watched ("watch the clerks", "keep an eye on the pages"), not a stalker
# watching a clerk or a staff entrance watched ("Man has been watching staff from the
# parking lot", "Watch the staff entrance for the banned patron": helper-76).
_WATCHING = (
    rf"(?:{_QUESTION_START}(?:please )?|\bto |\b(?:for|by|of) )(?:monitor\w*|watch\w*"
    r"|observ\w*|surveil\w*|spy\w*(?: on)?|snoop\w*(?: on)?|keep\w* (?:an )?eyes? on"
    r"|check\w* up on)[^\w.;?!]+(?:(?:how|whether|if|when|what|"
    rf"{_THE})[^\w.;?!]+){{0,6}}?{_STAFF}\b{_NOT_PERSON}"
)
_HR = (
    r"(?:write-?ups?|warnings?|reprimands?|personnel files?|termination|firing|dismissal"
    r"|conduct|behaviou?r|misconduct)"
)
_STAFF_MONITORING = re.compile(
    rf"\b{_STAFF}\b(?:\W+\w+){{0,5}}?\W+{_EVAL}|\b{_EVAL}(?:\W+\w+){{0,5}}?\W+{_STAFF}\b"
    rf"|{_WATCHING}"
    rf"|\b{_STAFF}(?:[^\w.;?!]+(?:being|are|is|were|was|be|been|get|got|getting))+"
    r"[^\w.;?!]+(?:monitored|watched|observed|surveilled)\b"
    # "staff monitoring", "clerk surveillance": the noun, not a member of staff who
    # monitors something ("Staff member monitoring the children's area noticed...")
    rf"|\b{_STAFF} (?:monitoring|surveillance|observation|watching)\b(?![^\w.;?!]+(?:the|a|an"
    r"|his|her|their|our|its|this|that|these|those|patrons?|children|kids|people|visitors"
    r"|doors?|entrances?|exits?|areas?)\b)"
    # a member of staff's manner, conduct, or a write-up or firing
    rf"|\b{_STAFF}'s (?:\w+ )?(?:attitude|demeanou?r|{_HR})\b"
    rf"|\b(?:attitude|demeanou?r|{_HR}) of{_SUBJECT}{_STAFF}\b"
    rf"|\b{_STAFF} (?:misconduct|conduct|behaviou?r)\b"
    rf"|\b(?:fire|firing|terminat\w*|dismiss\w*|build\w* a case against|get rid of)"
    rf"{_SUBJECT}{_STAFF}\b"
    # asked of a member of staff
    rf"|\b{_ASKING}{_SUBJECT}{_STAFF}{_TIGHT}(?:{_PLACE}{_UNTIL}|{_MANNER}\b)"
    rf"|\b{_ASKING}{_SUBJECT}{_STAFF}(?:'s)?{_ASKED}{_DUTY}\b"
    rf"|{_QUESTION_START}{_WHEN} {_AUX}{_SUBJECT}{_STAFF}{_TIGHT}{_COMINGS}\b"
    rf"|\b{_CHECK} {_WHEN}{_SUBJECT}{_STAFF}{_TIGHT}{_COMINGS}\b"
    rf"|\b{_ASKING}{_SUBJECT}{_STAFF}{_TIGHT}{_COMINGS}{_AT_A_TIME}"
    rf"|\b{_ASKING}{_ASKED}(?:desks?|posts?|stations?|counters?)"
    rf"(?: was| were)? left unattended by (?:the |a )?(?:\w+ )?{_STAFF}\b"
    # told of a member of staff, as a complaint
    rf"|{_TOLD}{_STAFF}{_TIGHT}(?:(?:away from|gone from|absent from|off|not at|out of)"
    rf" (?:(?:the|their|his|her|its) )?(?:\w+ ){{0,2}}?{_PLACE_NOUN}{_UNTIL}|{_BAD_MANNER}\b"
    rf"|(?:left|leaving|abandon\w*) (?:the|their|his|her)? ?(?:desks?|posts?|stations?"
    rf"|counters?){_UNTIL})"
    # abandoning one's post is said of how someone did their job, asked or not
    r"|\babandon\w* (?:their|his|her) (?:posts?|desks?|stations?|counters?)\b"
    # a member of staff's times, asked for or named as the purpose ("clerk arrival time
    # on Monday"), not known by a stalker ("the man seems to know the clerk's finish time")
    rf"|{_ASKED_OR_NAMED}{_STAFF}(?:'s)? (?:\w+ )?{_TIMES}\b"
    rf"|{_ASKED_OR_NAMED}{_TIMES} of{_SUBJECT}{_STAFF}\b"
    # who was at the desk, with no staff word ("Who was working the desk at 3pm?")
    rf"|{_QUESTION_START}(?:who|(?:was|were|is) (?:anyone|anybody|someone|somebody|nobody"
    r"|no one)) (?:was |were |is )?(?:working|on duty|on shift|covering|staffing|manning|at"
    rf"|on|behind) (?:the )?(?:\w+ ){{0,2}}?(?:desk|counter|post|station)s?{_UNTIL}",
    re.IGNORECASE,
)


# Words that read as watching staff at work (R16a): shifts, breaks, lateness, phones,
# performance. A purpose that uses one, or names a member of the staff directory, is
# refused unless the Director records why it is not staff monitoring.
_STAFF_SIGNALS = re.compile(
    r"\b(?:shifts?|breaks?|break ?rooms?|lunch(?:es)?|late(?:ness)?|tardy|tardiness"
    r"|(?:arriv|left|leav|came|come|went|go)\w*(?:\W+\w+){0,6}?\W+(?:late|early)"
    r"|clock(?:ed|ing|s)? (?:in|out)|punctual\w*|attendance|timesheets?|time ?cards?"
    r"|(?:cell ?|smart ?)?phones?|texting|performance|productiv\w*|evaluat\w*"
    r"|apprais\w*|disciplin\w*|slacking|slacker|idle|loafing"
    r"|(?:annual|yearly|job|staff) reviews?|dress code|customer service quality"
    r"|(?:see|check|find out|know|confirm|verify|which|whether) who (?:was|were|is) "
    r"(?:working|on duty|on shift|covering|staffing|at the desk)"
    r"|(?:desk|shift) coverage"
    # red team, session 17: "HR file", "coaching", "served per hour", "mobile"
    r"|hr (?:files?|records?|purposes|complaints?)|for hr|coaching"
    r"|(?:served|helped|handled|shelved|processed|checked out)"
    r"(?:\W+\w+){0,3}?\W+(?:per|an|in an|each|every) (?:hour|day|shift)|mobiles?"
    r"|(?:left|leav\w*|went home) before (?:closing|the end of)"
    # helper-75's red team, session 20: "gather evidence for the clerk's write-up"
    r"|written up|written warnings?|reprimand\w*"
    r"|(?:desks?|counters?|posts?|stations?)(?: (?:was|were|is|are|being|left|sat))*"
    r" (?:un)?(?:staffed|covered|manned)|(?:desks?|counters?) (?:was|were|is|are|sat|left)"
    r" (?:empty|unstaffed|uncovered|unmanned)"
    # helper-76, session 21: hours worked, overtime, time away from the work
    r"|overtime|hours worked|(?:bathroom|restroom|smoke|smoking|coffee) (?:trips|breaks)"
    r"|personal (?:calls?|errands?|business|browsing)|earbuds|netflix|youtube"
    r"|how many hours (?:did|does|do|has|have)"
    r"|(?:^|(?<=[.;:?!,\n] ))(?:was|were|is) the (?:\w+ )?(?:desk|counter)s? (?:empty|unstaffed"
    r"|uncovered|unmanned))\b",
    re.IGNORECASE,
)
# A signal's word used of something else, not read as a signal (helper-75's red team,
# session 20, and helper-76's, session 21): a late fee or a late book, late at night, a
# break-in, a phone stolen or used against staff, something that happened during or at
# the end of a shift, a medical evaluation.
_NOT_SIGNALS = re.compile(
    r"\b(?:late (?:fees?|fines?|charges?|returns?|books?|items?"
    r"|(?:last |on |that |this |at |in the )?(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day )?"
    r"(?:night|evening|afternoon))|break(?:-| )?ins?|break(?:ing)? into|broke(?:n)? into"
    r"|(?:phones?|mobiles?) (?:was|were|got|had been) (?:stolen|taken|snatched|grabbed)"
    r"|(?:stole|stolen|grabbed|snatched|took|taken|broke|broken|smashed)(?: [\w']+){0,3}?"
    r" (?:cell |smart )?(?:phones?|mobiles?)"
    r"|(?:library|desk|office|work|pay|the man's|the patron's|the suspect's) phones?"
    r"|phones? to call|(?:called|call) 911|mobile crisis|text\w* threats?"
    r"|phone with (?:911|the police|police|dispatch)|(?:children's|kids'|musical|theatre|theater"
    r"|puppet|magic|dance|live) performance"
    r"|(?:during|at the end of|after|at|on) (?:the|a|an|this|that|one|her|his|their) (?:\w+ )?"
    r"shift(?: change)?|shift change"
    r"|(?:paramedics|emts?|medics|doctors?|nurses?|medical(?:ly)?|hospital|psychiatric|psych)"
    r" evaluat\w*|evaluat\w* (?:at|by) (?:the )?(?:hospital|paramedics|emts?|er)"
    r"|hospital for (?:an |a medical )?evaluation)\b",
    re.IGNORECASE,
)
# A title's dot does not end a sentence ("Did Ms. Lopez, the clerk, leave her post?").
_TITLE_DOT = re.compile(r"\b(Mr|Mrs|Ms|Mx|Dr|Prof)\.", re.IGNORECASE)


# Words a name may share with the roles themselves ("Dana Director"): a reason that says
# "the Director asked" names a role, not that person.
_ROLE_WORDS = frozenset(
    {"staff", "director", "manager", "business", "counsel", "service", "library", "librarian"}
)


def mentions_staff_monitoring(text: str) -> bool:
    """True when a stated purpose reads as watching or evaluating staff (R16a). Errs on the
    side of refusing: a refusal is recorded and the viewer can restate a real purpose."""
    return bool(staff_monitoring_signals(text))


def staff_monitoring_signals(text: str, staff_names: Iterable[str] = ()) -> tuple[str, ...]:
    """What in a stated purpose reads as staff monitoring (R16a): staff-and-evaluation
    phrases, words about shifts, breaks, lateness, phones or performance, and the names
    (whole or any part) of members of the staff directory. Sorted, each once. The text is
    read as a person reads it (``_readings``, as a camera's location is): a name written
    with a look-alike letter of another script, an invisible character, full-width
    letters or letters spelled out with dots ("S.a.m") is the name (red team, session 13)."""
    found: set[str] = set()
    names = list(staff_names)
    for reading in _readings(text.replace("_", " ")):
        # spaces run together; a line stays a line (a question may start one)
        normal = "\n".join(" ".join(line.split()) for line in reading.splitlines()).strip()
        normal = _TITLE_DOT.sub(r"\1", normal)
        # the same length, so a match's place is its place in ``normal``
        masked = _NOT_SIGNALS.sub(lambda m: re.sub(r"\w", "x", m.group(0)), normal)
        for words in (_STAFF_MONITORING, _STAFF_SIGNALS):
            found |= {
                " ".join(normal[m.start() : m.end()].lower().split())
                for m in words.finditer(masked)
            }
        # a name with or without its accents, its hyphen a space or a part of its own
        # ("Jose" for "José García", "Mary Jo" for "Mary-Jo Lee": helper-76)
        plain = _unaccented(normal)
        for name in names:
            bare = _unaccented(name)
            parts = {
                bare,
                bare.replace("-", " "),
                *(p for p in re.split(r"[\s-]+", bare) if p.casefold() not in _ROLE_WORDS),
            }
            for part in sorted(p for p in parts if len(p.strip(".,'")) >= 2):
                pattern = rf"(?<!\w){re.escape(part.strip('.,'))}(?!\w)"
                if re.search(pattern, plain, re.IGNORECASE):
                    found.add(f"staff member {name!r}")
                    break
    return tuple(sorted(found))


def _unaccented(text: str) -> str:
    """``text`` without its accents: "José" as "Jose"."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# Places where people expect privacy (R12; 720 ILCS 5/26-4), as a location text may name
# them whatever zone is declared.
_PRIVATE_PLACES = re.compile(
    r"\b(?:rest ?rooms?|bath ?rooms?|wash ?rooms?|toilets?|lavator(?:y|ies)|w\.?c\.?"
    r"|(?:men|women|ladies|gents|boys|girls)'?s?'? ?(?:rooms?|room)|family rooms?"
    r"|changing (?:rooms?|areas?|tables?)|dressing (?:rooms?|areas?)|fitting rooms?"
    r"|locker ?rooms?|lockers?|showers?|nursing rooms?|lactation rooms?"
    r"|mother'?s'? ?rooms?|wellness rooms?|breast ?feeding rooms?|pumping rooms?"
    r"|water ?closets?|latrines?|privy|privies|private offices?|offices?"
    r"|break ?rooms?|break areas?|staff (?:lounges?|rooms?|kitchens?)|lounges?"
    r"|lunch ?rooms?|lunch areas?|baby ?care (?:rooms?|areas?)|(?:executive )?suites?"
    r"|(?:director|manager|administrator|supervisor|librarian)'?s'? (?:rooms?|areas?|desks?|stud(?:y|ies))"
    # policy red team, session 16: a first aid room, the Director's study and a private
    # study carrel passed
    r"|first[ -]aid (?:rooms?|stations?|areas?)|nurse'?s'? (?:rooms?|offices?|stations?)"
    r"|sick ?rooms?|infirmar(?:y|ies)|medical rooms?|prayer rooms?|meditation rooms?"
    r"|(?:private |quiet |individual |group )?study (?:rooms?|carrels?|booths?|pods?)"
    r"|carrels?|private\w*)\b",
    re.IGNORECASE,
)


# Words that name such a place alone, however the sentence goes on ("Ladies", "Gents").
_PRIVATE_WORDS = re.compile(
    r"\b(?:urinals?|loos?|powder ?rooms?|ladies'?|gents'?|(?:wo)?men'?s|(?:wo)?mens"
    r"|changing (?:stations?|cubicles?|booths?)|baby change|stalls?)\b",
    re.IGNORECASE,
)
_SPACED_LETTERS = re.compile(r"\b(?:\w[.\s\u00b7_-]){2,}\w\b")


def _as_read(text: str) -> str:
    """``text`` as it shows: NFKC with curly quotes straightened and invisible characters
    dropped; a line break or a tab stays (dropped, it would join the words either side:
    "complaint\nDid" read as "complaintDid")."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text)
    text = text.translate({0x2018: "'", 0x2019: "'", 0x02BC: "'", 0x2032: "'", 0x00B4: "'"})
    return "".join(c for c in text if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf"))


def _readings(location: str) -> list[str]:
    """The location as it reads to a person: NFKC with curly quotes straightened and
    invisible characters dropped; look-alike letters of other scripts as their Latin twin
    ("Rеstroom" with a Cyrillic е); letters spelled out with dots or spaces joined
    ("R.e.s.t.r.o.o.m")."""
    from ledger.names import _representative

    text = _as_read(location)
    latin = "".join(c if c.isascii() else _representative(c) for c in text)
    joined = _SPACED_LETTERS.sub(lambda m: re.sub(r"[.\s\u00b7_-]", "", m.group(0)), latin)
    return [text, latin, joined]


def private_place_words(location: str) -> tuple[str, ...]:
    """What in a camera's location text names a place people expect privacy in."""
    found = set()
    for reading in _readings(location):
        for pattern in (_PRIVATE_PLACES, _PRIVATE_WORDS):
            found |= {" ".join(m.group(0).lower().split()) for m in pattern.finditer(reading)}
    return tuple(sorted(found))


def check_camera_placement(
    zone: str,
    location: str,
    director_note: str | None = None,
    refused: Iterable[str] = PRIVACY_ZONES,
) -> Decision:
    """No camera in a restroom, changing or locker room, private office or break room
    (R12): the declared zone and the location's own words both count. A location whose
    words name such a place needs the Director's recorded reason why it is not one."""
    zoned = check_camera_zone(zone, refused)
    if not zoned.allowed:
        return zoned
    words = private_place_words(location)
    if words and (director_note or "").strip() and not check_reason(director_note).allowed:
        return refuse(
            r.CAMERA_PRIVACY_ZONE,
            f"the location {location!r} names {', '.join(repr(w) for w in words)}, and "
            f"{director_note!r} does not say why it is not a private place: say it in words",
        )
    if words and not (director_note or "").strip():
        return refuse(
            r.CAMERA_PRIVACY_ZONE,
            f"the location {location!r} names {', '.join(repr(w) for w in words)}: no camera "
            "may be placed where people expect privacy; if the place is not one, the Director "
            "records why (--not-private TEXT)",
        )
    if words:
        return allow(
            r.CAMERA_PRIVACY_ZONE,
            f"the location names {', '.join(words)}; the Director recorded why it is not a "
            "private place",
        )
    return zoned


# Cameras and recorders keep their own clocks: a few minutes' drift is not a false claim.
CLAIM_TOLERANCE = timedelta(minutes=5)


def check_recording_claim(
    start: datetime,
    end: datetime,
    camera_registered: datetime,
    now: datetime,
    zone: ZoneInfo = sitetime.UTC_ZONE,
) -> Decision:
    """When footage says it was recorded is a claim (R26): not in the future, not before
    its camera was registered in the ledger. ``zone`` is the site's, for the words."""

    def shown(moment: datetime) -> str:
        return sitetime.show(moment, zone, seconds=True)

    if end > now + CLAIM_TOLERANCE:
        return refuse(
            r.CLAIMED_TIMES,
            f"the footage claims to be recorded until {shown(end)}, after now "
            f"({shown(now)}); check the camera's clock",
        )
    if start < camera_registered:
        return refuse(
            r.CLAIMED_TIMES,
            f"the footage claims to start at {shown(start)}, before its camera was "
            f"registered ({shown(camera_registered)})",
        )
    return allow(
        r.CLAIMED_TIMES, "recorded within the camera's registered life, not later than now"
    )


def check_camera_zone(zone: str, refused: Iterable[str] = PRIVACY_ZONES) -> Decision:
    """``refused``: the zones of the policy version in force (R28)."""
    if zone in PRIVACY_ZONES or zone in refused:
        return refuse(
            r.CAMERA_PRIVACY_ZONE,
            f"no camera may be placed in a {zone.replace('_', ' ')}",
        )
    return allow(r.CAMERA_PRIVACY_ZONE, f"{zone.replace('_', ' ')} is not a privacy zone")


def check_audio(has_audio: bool) -> Decision:
    if has_audio:
        return refuse(r.CAMERA_NO_AUDIO, "footage carries an audio stream; audio is never recorded")
    return allow(r.CAMERA_NO_AUDIO, "no audio stream")


def check_signage(attested: bool) -> Decision:
    if not attested:
        return refuse(r.CAMERA_SIGNAGE, "entrance signage for this camera is not attested")
    return allow(r.CAMERA_SIGNAGE, "entrance signage attested")


def check_archive_access(role: str, roles: Iterable[str] = ARCHIVE_ROLES) -> Decision:
    """Every recorded segment is archived footage (R16): "real-time images" are the live
    view staff watch on the camera system, never a recording the ledger holds, however
    recent. Only the roles of the policy version in force (R28; the Director and the
    Business Manager, or fewer) view, copy or export it."""
    roles = frozenset(roles)
    if role in roles:
        return allow(
            r.FOOTAGE_ARCHIVE_ACCESS, f"archived footage, viewed by the {role.replace('_', ' ')}"
        )
    return refuse(
        r.FOOTAGE_ARCHIVE_ACCESS,
        "recorded footage is archived footage and may be viewed only by the "
        + " or the ".join(x.replace("_", " ").title() for x in _ROLE_ORDER if x in roles)
        + " (staff watch the live view on the camera system)",
    )


def check_retention_days(days: int, policy_days: int = MIN_RETENTION_DAYS) -> Decision:
    """The adopted policy keeps footage ``policy_days`` (R13, R28; the seed library's
    thirty): no setting may shorten that — the period changes only by adopting a policy
    version."""
    if days < policy_days:
        return refuse(
            r.FOOTAGE_RETENTION,
            f"retention of {counted(days, 'day')} is shorter than the policy's "
            f"{counted(policy_days, 'day')}; the period changes only with the adopted policy",
        )
    return allow(r.FOOTAGE_RETENTION, f"{days} days, at least the policy's {policy_days}")


def check_not_past_deadline(
    keep_until: datetime | None,
    active_holds: Iterable[str],
    now: datetime,
    zone: ZoneInfo = sitetime.UTC_ZONE,
) -> Decision:
    """Footage past its deadline (after flags) is due for destruction: it is not viewed
    or exported unless a hold covers it (R13, R14)."""
    holds = sorted(active_holds)
    if keep_until is None or now < keep_until:
        return allow(r.FOOTAGE_PAST_DEADLINE, "within its retention")
    if holds:
        return allow(r.FOOTAGE_PAST_DEADLINE, "past its deadline, held by " + ", ".join(holds))
    return refuse(
        r.FOOTAGE_PAST_DEADLINE,
        f"the footage's retention ended {sitetime.show(keep_until, zone)} and no hold covers "
        "it; it is due for purge, not for viewing or export",
    )


def check_flag_end(
    until: datetime,
    now: datetime,
    zone: ZoneInfo = sitetime.UTC_ZONE,
    *,
    extending: bool = False,
    base_deadline: datetime | None = None,
    role: str = "",
    max_days: int = FLAG_MAX_DAYS,
) -> Decision:
    """A flag keeps footage for an incident until an end date no further than the policy's
    bound (R13); the Director extends it, by at most the bound again. Anyone else's flag
    also ends within the bound after the segment's own deadline: a second flag on
    flagged footage is an extension, which is the Director's (no chain of staff flags)."""
    bound = now + timedelta(days=max_days)
    if until > bound:
        what = "an extension" if extending else "a flag"
        return refuse(
            r.FOOTAGE_FLAG_BOUND,
            f"{what} ends at most {max_days} days ahead (by "
            f"{sitetime.show(bound, zone)}), not {sitetime.show(until, zone)}"
            + ("" if extending else "; the Director extends a flag when the incident needs it"),
        )
    if base_deadline is not None and role != "director":
        chained = base_deadline + timedelta(days=max_days)
        if until > chained:
            return refuse(
                r.FOOTAGE_FLAG_BOUND,
                f"a flag keeps footage at most {max_days} days past its own deadline "
                f"(by {sitetime.show(chained, zone)}); only the Director extends it further",
            )
    return allow(r.FOOTAGE_FLAG_BOUND, f"ends {sitetime.show(until, zone)}")


def check_reason(reason: str | None, rule: Rule = r.FOOTAGE_VIEW_REASON) -> Decision:
    """A reason in words: the access log keeps "name, date, time and reason for viewing"
    (Policy V-B), and ".", "-" or an invisible character is not a reason."""
    if not (reason or "").strip():
        return refuse(rule, "a reason is required")
    seen = _as_read(reason or "")
    tokens = re.findall(r"[^\W_]+", seen.casefold())
    letters = [c for c in seen.casefold() if c.isalnum()]
    if (
        len(letters) < 3
        or len(set(letters)) == 1
        or " ".join(tokens) in _PLACEHOLDERS
        or all(_says_nothing(t) for t in tokens)
    ):
        return refuse(
            rule, f"{reason!r} is not a reason: say in words why (what happened, what you look for)"
        )
    return allow(rule, "reason stated")


def _says_nothing(word: str) -> bool:
    """A word that gives no reason, however many of them are strung together: a filler
    (``_FILLERS``), a number, one letter or one letter repeated, or a run of keys along a
    keyboard's row ("asdfgh")."""
    return (
        word in _FILLERS
        or word.isdigit()
        or len(set(word)) == 1
        or (len(word) >= 4 and any(word in row for row in _KEY_ROWS))
    )


# What people type when they will not say why (red team, session 13: "no reason", "none",
# "xxx" were logged as reasons for viewing archived footage).
_PLACEHOLDERS = frozenset({
    "none", "no reason", "no reason given", "n a", "na", "nil", "null", "nothing", "test",
    "testing", "tbd", "tba", "todo", "unknown", "reason", "because", "just because", "asdf",
    "qwerty", "abc", "etc", "whatever", "no", "not applicable", "see above", "same",
})  # fmt: skip
# Words that give no reason alone or together (red team, session 18: "no reason at all",
# "n/a n/a", "idk", "lol", "just looking", "bored", "curious", "ok ok" were logged as
# reasons for viewing): a reason of these words only is refused.
_FILLERS = frozenset({
    *(w for p in _PLACEHOLDERS for w in p.split()), "given", "at", "all", "the", "a", "an",
    "it", "i", "to", "of", "for", "was", "why", "reasons", "idk", "dunno", "lol", "lmao",
    "ok", "okay", "yes", "yep", "nope", "meh", "hmm", "hm", "bored", "boredom", "curious",
    "curiosity", "interest", "interested", "look", "looking", "looked", "browse", "browsing",
    "check", "checking", "checked", "view", "viewing", "random", "randomly", "stuff",
    "things", "thing", "something", "anything", "fun", "want", "wanted", "need", "needed",
    "particular", "specific", "real", "personal", "private", "misc", "miscellaneous",
})  # fmt: skip
_KEY_ROWS = tuple(
    row for r in ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890") for row in (r, r[::-1])
)


# A hold's reason that says it keeps footage for no incident at all (policy red team,
# session 16: staff held ordinary footage past its 30 days "just in case", reference "none").
_NO_INCIDENT = re.compile(
    r"\b(?:(?:just|only) in case\b(?!\s+(?:of|the|it|a|an|police|they))"
    r"|for safe ?keeping|keep (?:it|them|this|these) (?:around|for now)"
    r"|no (?:particular|specific|real) reason)",
    re.IGNORECASE,
)


def check_hold_grounds(reason: str, reference: str, kind: str = "hold") -> Decision:
    """Footage is kept past its days for suspected misbehavior ("Images that show evidence
    of suspected misbehavior will be saved longer", Policy V-B) or a legal duty: a hold
    (or a flag: ``kind``, its incident the ``reference``) placed by anyone but the Director
    says which, in words (R13, R14)."""
    code = " ".join(re.findall(r"\w+", _as_read(reference).casefold()))
    for what, text, empty in (
        ("reason", reason, not check_reason(reason, r.FOOTAGE_RETENTION).allowed),
        ("reference", reference, not code or code in _PLACEHOLDERS | {"pending"}),  # "L-9" is
    ):
        if empty:
            return refuse(
                r.FOOTAGE_RETENTION,
                f"the {kind}'s {what} {text!r} names nothing: a {kind} keeps footage past "
                "its days for a named incident, case, order or request",
            )
    if _NO_INCIDENT.search(_as_read(reason)):
        return refuse(
            r.FOOTAGE_RETENTION,
            f"the {kind}'s reason {reason!r} names no incident: footage is kept past its days "
            "only for suspected misbehavior or a legal duty (name the incident, case, order "
            "or request)",
        )
    return allow(r.FOOTAGE_RETENTION, f"the {kind} names its grounds")


def quoted(signals: Iterable[str]) -> str:
    """Signals as a message names them: each phrase in quotes, a member of the directory
    as ``staff member 'Sam Staff'`` (``staff_monitoring_signals``)."""
    return ", ".join(s if s.startswith("staff member ") else f'"{s}"' for s in signals)


def staff_monitoring_found(
    text: str, staff_names: Iterable[str] = (), phrases: Iterable[str] = ()
) -> tuple[str, ...]:
    """What in ``text`` reads as staff monitoring (R16a): the built-in detector's signals
    (``staff_monitoring_signals``), then the staff-monitoring purposes the policy version
    in force names (``phrases``, R28) that it did not find."""
    signals = staff_monitoring_signals(text, staff_names)
    folded = text.replace("_", " ").casefold()
    return signals + tuple(sorted({p for p in phrases if p.casefold() in folded} - set(signals)))


def check_view_purpose(
    purpose: str,
    text: str = "",
    *,
    staff_names: Iterable[str] = (),
    role: str = "",
    director_note: str | None = None,
    phrases: Iterable[str] = (),
) -> Decision:
    """Purpose chosen from the list plus free text (R16, R16a); applies to viewing,
    exporting and flagging. A text that names staff or reads as watching them at work is
    refused unless the Director records why it is not staff monitoring. ``phrases``: the
    staff-monitoring purposes the policy version in force names (R28), refused besides
    what the built-in detector finds."""
    signals = staff_monitoring_found(f"{purpose}. {text}", staff_names, phrases)
    # the Director's note is a reason in words too (red team, session 17: "." was taken)
    noted = role == "director" and check_reason(director_note).allowed
    if signals and not noted:
        return refuse(
            r.FOOTAGE_NO_STAFF_MONITORING,
            "cameras are not used to monitor staff performance or to evaluate staff; the "
            f"stated purpose mentions {quoted(signals)}"
            + (
                "; if it is not staff monitoring, record why with --not-staff-monitoring TEXT"
                if role == "director"
                else "; only the Director may record why it is not staff monitoring"
            ),
        )
    if purpose not in PURPOSES:
        return refuse(r.FOOTAGE_VIEW_REASON, f"unknown purpose {purpose!r}")
    if purpose == "other" and not text.strip():
        return refuse(r.FOOTAGE_VIEW_REASON, "purpose 'other' needs a stated reason")
    if signals:
        return allow(
            r.FOOTAGE_NO_STAFF_MONITORING,
            f"mentions {quoted(signals)}; the Director recorded why it is not staff monitoring",
        )
    return allow(r.FOOTAGE_VIEW_REASON, f"purpose {purpose.replace('_', ' ')}")


@dataclass(frozen=True)
class Retention:
    base_deadline: datetime  # recording end + retention days
    keep_until: datetime | None  # None: kept indefinitely by an open-ended flag
    active_holds: tuple[str, ...]
    due: bool  # may (and must) be purged now


def retention_deadline(
    recorded_end: datetime,
    retention_days: int,
    flags: Iterable[Flag],
    holds: Iterable[Hold],
    now: datetime,
) -> Retention:
    """When footage falls due for purge (R13, R14). Flags extend retention; active holds
    block purge without changing the deadline."""
    base = recorded_end + timedelta(days=retention_days)
    keep: datetime | None = base
    for flag in flags:
        if flag.retain_until is None:
            keep = None
            break
        keep = max(keep, flag.retain_until) if keep else flag.retain_until
    active = tuple(sorted(h.hold_id for h in holds if h.active(now)))
    return Retention(base, keep, active, keep is not None and now >= keep and not active)


def check_purge(
    recorded_end: datetime,
    retention_days: int,
    flags: Iterable[Flag],
    holds: Iterable[Hold],
    now: datetime,
    zone: ZoneInfo = sitetime.UTC_ZONE,
) -> Decision:
    """May the segment be purged now? ``zone`` is the site's, for the deadline's words."""
    ret = retention_deadline(recorded_end, retention_days, flags, holds, now)
    if ret.active_holds:
        return refuse(
            r.FOOTAGE_HOLD_BLOCKS_PURGE,
            ("an active hold blocks" if len(ret.active_holds) == 1 else "active holds block")
            + " purge: "
            + ", ".join(ret.active_holds),
        )
    if ret.keep_until is None:
        return refuse(r.FOOTAGE_RETENTION, "flagged footage is kept until the flag is cleared")
    if now < ret.keep_until:
        return refuse(
            r.FOOTAGE_RETENTION, f"footage is retained until {sitetime.show(ret.keep_until, zone)}"
        )
    return allow(r.FOOTAGE_RETENTION, f"retention ended {sitetime.show(ret.keep_until, zone)}")


def check_hold_release(role: str, reason: str | None) -> Decision:
    if role != "director":
        return refuse(
            r.FOOTAGE_HOLD_RELEASE_DIRECTOR,
            f"only the Director may release a hold, not the {role.replace('_', ' ')}",
        )
    why = check_reason(reason, r.FOOTAGE_HOLD_RELEASE_DIRECTOR)
    return (
        why
        if not why.allowed
        else allow(r.FOOTAGE_HOLD_RELEASE_DIRECTOR, "released by the Director")
    )
