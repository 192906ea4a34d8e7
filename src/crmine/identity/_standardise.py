"""Standardise the customer columns that identify a person, as one Ibis expression.

Every rule here is a pure column expression, so the same code runs on DuckDB and on Spark. The
output has one row per customer record and these columns (a column is left out when its source
column is absent from ``customers``):

==============  ==================================================================================
unique_id       ``customer_id`` as a string
source_system   the source system, as given (null when the column is absent)
first_name      first word of the name, lower case, titles and punctuation removed, a common
                nickname replaced by its formal name (bob -> robert, liz -> elizabeth)
surname         last word of the name (null when the name has a single word)
full_name       ``first_name surname``, middle names dropped (term frequencies use it)
email           lower case, no spaces, ``+tag`` and ``mailto:`` removed, Gmail dots removed
email_user      the part before ``@``
phone           digits of the national number: country code and trunk ``0`` removed, so
                ``+44 7700 900123``, ``0044 7700-900123`` and ``07700 900123`` agree
postcode        upper case, letters and digits only
address         lower case, punctuation removed, street words abbreviated (street -> st)
birth_date      a date; dates before 1900-01-02 (placeholders such as 1900-01-01) become null
gender          ``f``, ``m`` or ``x``
==============  ==================================================================================

Empty strings become null, so a blank field never matches another blank field.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

__all__ = ["MATCH_COLUMNS", "SOURCE_COLUMNS", "standardise"]

# Canonical columns that carry identifying information, and the standardised columns each gives.
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("first_name", "surname", "full_name"),
    "email": ("email", "email_user"),
    "phone": ("phone",),
    "postcode": ("postcode",),
    "address": ("address",),
    "birth_date": ("birth_date",),
    "gender": ("gender",),
}
# Standardised columns that can drive a comparison on their own.
MATCH_COLUMNS = ("first_name", "surname", "email", "phone", "postcode", "address", "birth_date")

# ITU E.164 country calling codes form a prefix code, so an alternation of them strips exactly one.
# The list holds the codes of the countries crmine users most often meet; an unknown code is kept,
# which only costs a match between an international and a national spelling of the same number.
_CALLING_CODES = (
    "1|7|20|27|30|31|32|33|34|36|39|40|41|43|44|45|46|47|48|49|51|52|53|54|55|56|57|58|"
    "60|61|62|63|64|65|66|81|82|84|86|90|91|92|93|94|95|98|212|213|216|234|254|351|352|353|"
    "354|356|357|358|359|370|371|372|380|385|386|420|421|852|886|971|972|974|966"
)
_TITLES = r"^(mr|mrs|ms|miss|mx|dr|prof|sir|dame|rev)\s+"
_SUFFIXES = r"\s+(jr|sr|ii|iii|iv|phd|md|esq)$"
_ADDRESS_WORDS = (
    ("street", "st"),
    ("road", "rd"),
    ("avenue", "ave"),
    ("lane", "ln"),
    ("drive", "dr"),
    ("court", "ct"),
    ("place", "pl"),
    ("square", "sq"),
    ("terrace", "ter"),
    ("crescent", "cres"),
    ("close", "cl"),
    ("gardens", "gdns"),
    ("boulevard", "blvd"),
    ("highway", "hwy"),
    ("apartment", "apt"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
)
# Common English nicknames that are neither a typo of their formal name nor a part of it ("chris",
# "sam", "ben", "bella" already agree with their formal names; see the cannot-link rules).
_NICKNAMES = {
    "bob": "robert", "bobby": "robert", "robbie": "robert", "bill": "william", "billy": "william",
    "jim": "james", "jimmy": "james", "jamie": "james", "tom": "thomas", "tommy": "thomas",
    "mike": "michael", "mick": "michael", "mickey": "michael", "mikey": "michael",
    "dave": "david", "davy": "david", "danny": "daniel", "steve": "stephen", "tony": "anthony",
    "andy": "andrew", "drew": "andrew", "nicky": "nicholas", "joe": "joseph", "joey": "joseph",
    "eddie": "edward", "ted": "edward", "teddy": "edward", "ned": "edward", "charlie": "charles",
    "chuck": "charles", "freddie": "frederick", "freddy": "frederick", "kenny": "kenneth",
    "larry": "lawrence", "ronnie": "ronald", "rick": "richard", "ricky": "richard",
    "dick": "richard", "gerry": "gerald", "harry": "henry", "hal": "henry", "ollie": "oliver",
    "archie": "archibald", "jeff": "jeffrey", "greg": "gregory", "chaz": "charles",
    "liz": "elizabeth", "lizzie": "elizabeth", "lizzy": "elizabeth", "beth": "elizabeth",
    "betty": "elizabeth", "bess": "elizabeth", "libby": "elizabeth", "kate": "katherine",
    "katie": "katherine", "kathy": "katherine", "kitty": "katherine", "cathy": "catherine",
    "maggie": "margaret", "meg": "margaret", "peggy": "margaret", "jenny": "jennifer",
    "sue": "susan", "susie": "susan", "patty": "patricia", "trish": "patricia",
    "debbie": "deborah", "becky": "rebecca", "vicky": "victoria", "vicki": "victoria",
    "mandy": "amanda", "sandy": "sandra", "abby": "abigail", "lottie": "charlotte",
    "tilly": "matilda", "sally": "sarah", "jackie": "jacqueline", "polly": "mary",
    "molly": "mary", "nell": "eleanor", "peg": "margaret", "dot": "dorothy", "dottie": "dorothy",
}  # fmt: skip
_GENDERS = {
    "f": "f", "female": "f", "woman": "f", "w": "f",
    "m": "m", "male": "m", "man": "m",
    "x": "x", "other": "x", "diverse": "x", "non-binary": "x", "nonbinary": "x", "d": "x",
}  # fmt: skip


def _blank_to_null(s: ir.StringValue) -> ir.StringValue:
    s = s.re_replace(r"\s+", " ").strip()
    return ibis.ifelse(s.length() == 0, ibis.null("string"), s)


# Each rule is written in steps over a chain of projections, so that an intermediate value is
# computed once and referred to by name: inlined, the name rules alone compile to 60 kB of SQL.


def _name_clean(name: ir.Value) -> ir.StringValue:
    s = name.cast("string").lower().strip()
    # "Smith, John" -> "john smith"
    s = ibis.ifelse(
        s.contains(","), s.re_extract(r",(.*)$", 1) + " " + s.re_extract(r"^([^,]*),", 1), s
    )
    s = s.re_replace(r"['’`.]", "")  # o'brien -> obrien, j.r. -> jr
    s = s.re_replace(r"[^\p{L}\p{N}]+", " ").strip()  # hyphens, digits kept apart
    return _blank_to_null(s.re_replace(_TITLES, "").re_replace(_SUFFIXES, ""))


def _name_parts(s: ir.StringValue) -> tuple[ir.StringValue, ir.StringValue]:
    first = _blank_to_null(s.re_extract(r"^(\S+)", 1)).substitute(_NICKNAMES)
    last = ibis.ifelse(s.contains(" "), s.re_extract(r"(\S+)$", 1), ibis.null("string"))
    return first, last


def _full_name(first: ir.StringValue, last: ir.StringValue) -> ir.StringValue:
    return ibis.ifelse(last.isnull(), first, first + " " + last)


def _email_clean(email: ir.Value) -> ir.StringValue:
    e = email.cast("string").lower().re_replace(r"\s+", "").re_replace(r"^mailto:", "")
    e = e.re_replace(r"\+[^@]*@", "@").re_replace(r"@googlemail\.com$", "@gmail.com")
    return ibis.ifelse(e.re_search(r"^[^@]+@[^@]+$"), e, ibis.null("string"))


def _email_parts(e: ir.StringValue) -> tuple[ir.StringValue, ir.StringValue]:
    user = e.re_extract(r"^([^@]+)@", 1)
    domain = e.re_extract(r"@([^@]+)$", 1)
    user = ibis.ifelse(domain == "gmail.com", user.replace(".", ""), user)
    return ibis.ifelse(e.isnull(), ibis.null("string"), user + "@" + domain), _blank_to_null(user)


def _phone_digits(phone: ir.Value) -> tuple[ir.StringValue, ir.BooleanValue]:
    raw = phone.cast("string").strip().replace("(0)", "")
    digits = raw.re_replace(r"[^0-9]", "")
    return digits, raw.startswith("+") | digits.startswith("00")


def _phone(digits: ir.StringValue, international: ir.BooleanValue) -> ir.StringValue:
    digits = digits.re_replace(r"^00", "")
    codes = rf"^({_CALLING_CODES})"
    # A long number with neither "+" nor a trunk 0 usually lost its "+": 447700900123.
    lost_plus = (~digits.startswith("0")) & (digits.length() >= 11) & digits.re_search(codes)
    national = ibis.ifelse(international | lost_plus, digits.re_replace(codes, ""), digits)
    return national.re_replace(r"^0+", "")


def _postcode(postcode: ir.Value) -> ir.StringValue:
    return _blank_to_null(postcode.cast("string").upper().re_replace(r"[^0-9A-Z]", ""))


def _address(address: ir.Value) -> ir.StringValue:
    a = address.cast("string").lower().re_replace(r"['’`.]", "")
    a = a.re_replace(r"[^\p{L}\p{N}]+", " ")
    for long, short in _ADDRESS_WORDS:
        a = a.re_replace(rf"\b{long}\b", short)
    return _blank_to_null(a)


def _birth_date(col: ir.Value) -> ir.DateValue:
    d = col.strip().try_cast("date") if col.type().is_string() else col.cast("date")
    return ibis.ifelse(d < ibis.date(1900, 1, 2), ibis.null("date"), d)


def _gender(col: ir.Value) -> ir.StringValue:
    g = col.cast("string").lower().strip()
    return g.cases(*_GENDERS.items(), else_=None)


def standardise(customers: ir.Table) -> ir.Table:
    """The standardised matching columns of ``customers`` (see the module docstring).

    Parameters
    ----------
    customers
        The canonical ``customers`` table; only ``customer_id`` must exist.
    """
    t = customers
    have = set(t.columns)
    # Step 1: clean each field.
    cols: dict[str, ir.Value] = {"unique_id": t.customer_id.cast("string")}
    src = t.source_system.cast("string") if "source_system" in have else ibis.null("string")
    cols["source_system"] = src
    if "name" in have:
        cols["_name"] = _name_clean(t.name)
    if "email" in have:
        cols["_email"] = _email_clean(t.email)
    if "phone" in have:
        cols["_digits"], cols["_international"] = _phone_digits(t.phone)
    if "postcode" in have:
        cols["postcode"] = _postcode(t.postcode)
    if "address" in have:
        cols["address"] = _address(t.address)
    if "birth_date" in have:
        cols["birth_date"] = _birth_date(t.birth_date)
    if "gender" in have:
        cols["gender"] = _gender(t.gender)
    s1 = t.select(**cols)
    # Step 2: split and normalise.
    cols = {c: s1[c] for c in s1.columns if not c.startswith("_")}
    if "name" in have:
        cols["first_name"], cols["surname"] = _name_parts(s1._name)
    if "email" in have:
        cols["email"], cols["email_user"] = _email_parts(s1._email)
    if "phone" in have:
        cols["_national"] = _phone(s1._digits, s1._international)
    s2 = s1.select(**cols)
    # Step 3: assemble, in the documented column order.
    cols = {"unique_id": s2.unique_id, "source_system": s2.source_system}
    if "name" in have:
        cols.update(first_name=s2.first_name, surname=s2.surname,
                    full_name=_full_name(s2.first_name, s2.surname))  # fmt: skip
    if "email" in have:
        cols.update(email=s2.email, email_user=s2.email_user)
    if "phone" in have:
        national = s2._national
        cols["phone"] = ibis.ifelse(national.length() >= 6, national, ibis.null("string"))
    for c in ("postcode", "address", "birth_date", "gender"):
        if c in have:
            cols[c] = s2[c]
    return s2.select(**cols)
