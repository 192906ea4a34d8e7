"""Standardise the customer columns that identify a person, as one Ibis expression.

Every rule here is a pure column expression, so the same code runs on DuckDB and on Spark. The
output has one row per customer record and these columns (a column is left out when its source
column is absent from ``customers``):

==============  ==================================================================================
unique_id       ``customer_id`` as a string
source_system   the source system, as given (null when the column is absent)
first_name      first word of the name, lower case, titles and punctuation removed
surname         last word of the name (null when the name has a single word)
full_name       ``first_name surname``, middle names dropped (term frequencies use it)
email           lower case, no spaces, ``+tag`` and ``mailto:`` removed, Gmail dots removed
email_user      the part before ``@``
phone           digits of the national number: country code and trunk ``0`` removed, so
                ``+44 7700 900123``, ``0044 7700-900123`` and ``07700 900123`` agree
postcode        upper case, letters and digits only
address         lower case, punctuation removed, street words abbreviated (street -> st)
birth_date      a date
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
_GENDERS = {
    "f": "f", "female": "f", "woman": "f", "w": "f",
    "m": "m", "male": "m", "man": "m",
    "x": "x", "other": "x", "diverse": "x", "non-binary": "x", "nonbinary": "x", "d": "x",
}  # fmt: skip


def _blank_to_null(s: ir.StringValue) -> ir.StringValue:
    s = s.re_replace(r"\s+", " ").strip()
    return ibis.ifelse(s.length() == 0, ibis.null("string"), s)


def _name_parts(name: ir.Value) -> tuple[ir.StringValue, ir.StringValue, ir.StringValue]:
    s = name.cast("string").lower().strip()
    # "Smith, John" -> "john smith"
    has_comma = s.contains(",")
    s = ibis.ifelse(has_comma, s.re_extract(r",(.*)$", 1) + " " + s.re_extract(r"^([^,]*),", 1), s)
    s = s.re_replace(r"['’`.]", "")  # o'brien -> obrien, j.r. -> jr
    s = s.re_replace(r"[^\p{L}\p{N}]+", " ").strip()  # hyphens, digits kept apart
    s = s.re_replace(_TITLES, "").re_replace(_SUFFIXES, "")
    s = _blank_to_null(s)
    first = s.re_extract(r"^(\S+)", 1)
    last = ibis.ifelse(s.contains(" "), s.re_extract(r"(\S+)$", 1), ibis.null("string"))
    first = _blank_to_null(first)
    full = ibis.ifelse(last.isnull(), first, first + " " + last)
    return first, last, full


def _email_parts(email: ir.Value) -> tuple[ir.StringValue, ir.StringValue]:
    e = email.cast("string").lower().re_replace(r"\s+", "").re_replace(r"^mailto:", "")
    e = e.re_replace(r"\+[^@]*@", "@").re_replace(r"@googlemail\.com$", "@gmail.com")
    user = e.re_extract(r"^([^@]+)@", 1)
    domain = e.re_extract(r"@([^@]+)$", 1)
    user = ibis.ifelse(domain == "gmail.com", user.replace(".", ""), user)
    valid = e.re_search(r"^[^@]+@[^@]+$")
    email_std = ibis.ifelse(valid, user + "@" + domain, ibis.null("string"))
    user = ibis.ifelse(valid, _blank_to_null(user), ibis.null("string"))
    return email_std, user


def _phone(phone: ir.Value) -> ir.StringValue:
    raw = phone.cast("string").strip().replace("(0)", "")
    digits = raw.re_replace(r"[^0-9]", "")
    international = raw.startswith("+") | digits.startswith("00")
    digits = digits.re_replace(r"^00", "")
    codes = rf"^({_CALLING_CODES})"
    # A long number with neither "+" nor a trunk 0 usually lost its "+": 447700900123.
    lost_plus = (~digits.startswith("0")) & (digits.length() >= 11) & digits.re_search(codes)
    national = ibis.ifelse(international | lost_plus, digits.re_replace(codes, ""), digits)
    national = national.re_replace(r"^0+", "")
    return ibis.ifelse(national.length() >= 6, national, ibis.null("string"))


def _postcode(postcode: ir.Value) -> ir.StringValue:
    return _blank_to_null(postcode.cast("string").upper().re_replace(r"[^0-9A-Z]", ""))


def _address(address: ir.Value) -> ir.StringValue:
    a = address.cast("string").lower().re_replace(r"['’`.]", "")
    a = a.re_replace(r"[^\p{L}\p{N}]+", " ")
    for long, short in _ADDRESS_WORDS:
        a = a.re_replace(rf"\b{long}\b", short)
    return _blank_to_null(a)


def _birth_date(col: ir.Value) -> ir.DateValue:
    if col.type().is_string():
        return col.strip().try_cast("date")
    return col.cast("date")


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
    cols: dict[str, ir.Value] = {"unique_id": t.customer_id.cast("string")}
    if "source_system" in have:
        cols["source_system"] = t.source_system.cast("string")
    else:
        cols["source_system"] = ibis.null("string")
    if "name" in have:
        cols["first_name"], cols["surname"], cols["full_name"] = _name_parts(t.name)
    if "email" in have:
        cols["email"], cols["email_user"] = _email_parts(t.email)
    if "phone" in have:
        cols["phone"] = _phone(t.phone)
    if "postcode" in have:
        cols["postcode"] = _postcode(t.postcode)
    if "address" in have:
        cols["address"] = _address(t.address)
    if "birth_date" in have:
        cols["birth_date"] = _birth_date(t.birth_date)
    if "gender" in have:
        cols["gender"] = _gender(t.gender)
    return t.select(**cols)
