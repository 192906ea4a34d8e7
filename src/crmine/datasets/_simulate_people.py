"""Simulated persons: calendar, segments, demographics and the customer records of two systems.

A *person* is the truth; a *record* is what a source system holds about a person. Every person has
one record in their primary system (crm or web); a share of them also has a noisy second record in
the other system. Nothing here loops over persons in Python.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmine.datasets import _simulate_lexicon as lex

CATEGORY_NAMES = tuple(lex.CATEGORIES)  # women, men, kids, home, beauty, electronics
CHANNELS = ("store", "web", "catalog", "phone")

# Planted segments. Shifts act on latent standard-normal scores (see _simulate_orders.plant_purchases):
# lambda_shift raises purchase rate, spend_shift raises spend per order, dropout_level raises dropout.
# Dropout levels are set so that, across segments, purchase rate and dropout stay uncorrelated (as
# BG/NBD assumes): occasional buyers are rare but steady, bargain hunters and the young churn.
SEGMENTS: dict[str, dict] = {
    "bargain_hunters": dict(
        share=0.22,
        lambda_shift=0.2,
        spend_shift=-0.5,
        dropout_level=0.3,
        age=(44, 14),
        income_median=29_000,
        p_female=0.56,
        promo_boost=4.0,
        interactions=1.1,
        lines=(0.35, 0.33, 0.19, 0.13),
        categories=(0.25, 0.20, 0.15, 0.20, 0.10, 0.10),
        channels=(0.45, 0.45, 0.05, 0.05),
    ),
    "loyal_high_value": dict(
        share=0.15,
        lambda_shift=0.9,
        spend_shift=0.6,
        dropout_level=-0.5,
        age=(52, 12),
        income_median=68_000,
        p_female=0.55,
        promo_boost=0.3,
        interactions=1.8,
        lines=(0.33, 0.33, 0.20, 0.14),
        categories=(0.30, 0.26, 0.04, 0.20, 0.10, 0.10),
        channels=(0.62, 0.23, 0.05, 0.10),
    ),
    "occasional": dict(
        share=0.28,
        lambda_shift=-0.8,
        spend_shift=0.0,
        dropout_level=-0.3,
        age=(49, 16),
        income_median=38_000,
        p_female=0.50,
        promo_boost=0.8,
        interactions=0.6,
        lines=(0.47, 0.30, 0.15, 0.08),
        categories=(0.20, 0.20, 0.08, 0.27, 0.10, 0.15),
        channels=(0.45, 0.28, 0.15, 0.12),
    ),
    "family_shoppers": dict(
        share=0.18,
        lambda_shift=0.2,
        spend_shift=0.3,
        dropout_level=0.0,
        age=(38, 6),
        income_median=48_000,
        p_female=0.63,
        promo_boost=1.0,
        interactions=1.4,
        lines=(0.15, 0.29, 0.29, 0.27),
        categories=(0.14, 0.09, 0.42, 0.25, 0.05, 0.05),
        channels=(0.48, 0.42, 0.10, 0.00),
    ),
    "online_young": dict(
        share=0.17,
        lambda_shift=0.1,
        spend_shift=-0.3,
        dropout_level=0.4,
        age=(27, 5),
        income_median=31_000,
        p_female=0.50,
        promo_boost=1.5,
        interactions=1.0,
        lines=(0.40, 0.31, 0.17, 0.12),
        categories=(0.20, 0.20, 0.02, 0.05, 0.25, 0.28),
        channels=(0.15, 0.80, 0.02, 0.03),
    ),
}
SEGMENT_NAMES = tuple(SEGMENTS)

# Seasonality of the purchase process: calendar time is warped so that purchase intensity follows
# month and weekday factors (normalised to mean 1 over the simulated period).
MONTH_FACTORS = (0.85, 0.82, 0.92, 0.95, 1.0, 0.95, 1.0, 0.95, 0.93, 1.0, 1.2, 1.6)
WEEKDAY_FACTORS = (0.9, 0.88, 0.92, 0.98, 1.1, 1.3, 0.92)  # Monday .. Sunday


class Calendar:
    """Days since ``start`` (float), the seasonal time warp, and conversion to epoch seconds."""

    def __init__(self, start: np.datetime64, end: np.datetime64, extra_days: int = 800):
        self.start = start
        self.horizon = int((end - start).astype(int)) + 1  # days; `end` is included
        days = start + np.arange(self.horizon + extra_days)
        month = days.astype("datetime64[M]").astype(np.int64) % 12
        weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        w = np.asarray(MONTH_FACTORS)[month] * np.asarray(WEEKDAY_FACTORS)[weekday]
        w = w / w[: self.horizon].mean()
        self.weights = w
        self.cum = np.concatenate([[0.0], np.cumsum(w)])
        self.grid = np.arange(self.cum.size, dtype=np.float64)
        self.start_s = int(start.astype("datetime64[s]").astype(np.int64))

    def op(self, t):
        """Operational (seasonally warped) days of calendar days ``t``."""
        t = np.asarray(t, dtype=np.float64)
        s = np.interp(t, self.grid, self.cum)
        return np.where(t > self.grid[-1], self.cum[-1] + (t - self.grid[-1]), s)

    def cal(self, s):
        """Calendar days of operational days ``s``; linear beyond the table."""
        s = np.asarray(s, dtype=np.float64)
        t = np.interp(s, self.cum, self.grid)
        return np.where(s > self.cum[-1], self.grid[-1] + (s - self.cum[-1]), t)

    def seconds(self, t):
        """Epoch seconds (int64) of calendar days ``t``."""
        return self.start_s + np.round(np.asarray(t, dtype=np.float64) * 86400.0).astype(np.int64)

    def day_seconds(self, day, tod_s):
        """Epoch seconds of whole day index ``day`` plus a time of day in seconds."""
        return (
            self.start_s
            + np.asarray(day, dtype=np.int64) * 86400
            + np.asarray(tod_s, dtype=np.int64)
        )


def time_of_day(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    """Seconds after midnight: stores trade 9:00-20:00, phone/catalog 8:00-20:00, web peaks at night."""
    n = channel.size
    store = rng.uniform(9 * 3600, 20 * 3600, n)
    web = (rng.normal(20.5, 3.2, n) % 24) * 3600
    office = rng.uniform(8 * 3600, 20 * 3600, n)
    tod = np.where(channel == 0, store, np.where(channel == 1, web, office))
    return np.clip(tod, 0, 86399).astype(np.int64)


def _zipf_choice(rng, n_items: int, size: int, exponent: float = 0.9) -> np.ndarray:
    w = 1.0 / (np.arange(n_items) + 4.0) ** exponent
    return rng.choice(n_items, size=size, p=w / w.sum())


# Share of persons made to look like another person (hard non-duplicates for identity resolution):
# household members (same surname and address), a parent and child of the same name at one address,
# twins (same surname, address and birth date), namesakes (same name, half of them in the same town).
LOOKALIKES = {
    "household": 0.07,
    "household_shared_phone": 0.15,
    "household_family_email": 0.1,
    "same_name_parent_child": 0.01,
    "twin": 0.003,
    "namesake": 0.015,
}
# Noise on the second record of a duplicated person (each applied independently).
DUPLICATE_NOISE = {
    "name_typo": 0.3,
    "nickname": 0.12,
    "married_name_of_women": 0.08,
    "middle_initial": 0.05,
    "other_email": 0.25,
    "email_local_typo": 0.07,
    "email_domain_typo": 0.08,
    "email_missing": 0.10,
    "newer_phone": 0.15,
    "phone_missing": 0.15,
    "moved_house": 0.12,
    "street_abbreviated": 0.4,
    "address_lower_case": 0.1,
    "address_missing": 0.08,
    "postcode_without_space": 0.3,
    "postcode_lower_case": 0.2,
    "postcode_missing": 0.06,
    "town_variant": 0.5,
    "birth_date_missing": 0.15,
    "birth_day_month_swapped": 0.05,
    "birth_year_off_by_one": 0.03,
}

# person attributes that make up an address
ADDRESS = ("city", "house", "street", "street_type", "pc_district", "pc_sector", "pc_unit")


class Persons:
    """Column arrays, one row per simulated person (attributes are filled in by later steps)."""

    def __init__(self, n: int):
        self.n = n


def make_persons(n: int, rng: np.random.Generator, cal: Calendar, duplicate_rate: float) -> Persons:
    """Draw segments, demographics, places, names, acquisition time and record layout."""
    P = Persons(n)
    seg_share = np.array([s["share"] for s in SEGMENTS.values()])
    P.segment = rng.choice(len(SEGMENTS), size=n, p=seg_share / seg_share.sum()).astype(np.int8)
    seg = [SEGMENTS[k] for k in SEGMENT_NAMES]

    def by_seg(key, i=None):
        vals = np.array([s[key] if i is None else s[key][i] for s in seg], dtype=np.float64)
        return vals[P.segment]

    P.female = rng.random(n) < by_seg("p_female")
    P.age = np.clip(rng.normal(by_seg("age", 0), by_seg("age", 1)), 18, 92)
    birth = cal.start - np.round(P.age * 365.25).astype("timedelta64[D]")
    P.birth_day = birth.astype(np.int64)  # days since 1970-01-01
    age_curve = 1.0 - 0.00035 * (np.clip(P.age, 18, 75) - 50.0) ** 2
    P.income = np.maximum(
        6_000.0, np.round(by_seg("income_median") * age_curve * np.exp(rng.normal(0, 0.45, n)), -2)
    )
    inc_rank = (np.argsort(np.argsort(np.log(P.income) + rng.normal(0, 0.35, n))) + 0.5) / n
    P.occupation = np.minimum(
        (inc_rank * len(lex.OCCUPATIONS)).astype(np.int64), len(lex.OCCUPATIONS) - 1
    )
    edu_rank = np.clip(inc_rank + rng.normal(0, 0.25, n), 0, 0.9999)
    P.education = (edu_rank * len(lex.EDUCATION)).astype(np.int64)
    # occupations as text, with retirees and students overriding the income ladder
    occ = np.array(lex.OCCUPATIONS, dtype=object)[P.occupation]
    occ[(P.age >= 66) & (rng.random(n) < 0.8)] = "retired"
    occ[(P.age < 23) & (rng.random(n) < 0.5)] = "student"
    P.occupation_text = occ
    P.temper = rng.normal(0, 0.5, n)  # how easily a person is pleased by service

    # places
    city_w = np.array([c[3] for c in lex.CITIES])
    P.city = rng.choice(len(lex.CITIES), size=n, p=city_w / city_w.sum())
    P.house = np.where(rng.random(n) < 0.85, rng.integers(1, 160, n), rng.integers(160, 400, n))
    P.street = rng.integers(0, len(lex.STREETS), n)
    P.street_type = rng.integers(0, len(lex.STREET_TYPES), n)
    P.pc_district = rng.integers(1, 30, n)
    P.pc_sector = rng.integers(1, 10, n)
    P.pc_unit = rng.integers(0, 20 * 20, n)  # two letters from 20
    P.first = np.where(
        P.female,
        _zipf_choice(rng, len(lex.FIRST_F), n, 0.6),
        _zipf_choice(rng, len(lex.FIRST_M), n, 0.6),
    )
    P.surname = _zipf_choice(rng, len(lex.SURNAMES), n, 0.9)
    P.phone = rng.integers(0, 10**9, n)  # "07" + 9 digits
    P.email_pattern = rng.integers(0, 6, n)
    P.email_num = rng.integers(1, 99, n)
    P.email_domain = rng.choice(
        len(lex.EMAIL_DOMAINS), size=n, p=np.array(lex.EMAIL_DOMAIN_WEIGHTS)
    )

    # hard negatives: households (same surname, address, often phone or family e-mail), parents and
    # children of the same name at one address, twins, and namesakes (often in the same town)
    P.lookalike_of = np.full(n, -1)
    P.lookalike_kind = np.full(n, "", dtype=object)
    joiner = np.flatnonzero(rng.random(n) < LOOKALIKES["household"])
    host = rng.integers(0, n, joiner.size)
    P.lookalike_of[joiner], P.lookalike_kind[joiner] = host, "household"
    for a in ("surname", *ADDRESS):
        getattr(P, a)[joiner] = getattr(P, a)[host]
    shared = rng.random(joiner.size) < LOOKALIKES["household_shared_phone"]
    P.phone[joiner[shared]] = P.phone[host[shared]]
    family = rng.random(joiner.size) < LOOKALIKES["household_family_email"]
    for a in ("email_num", "email_domain"):
        getattr(P, a)[joiner[family]] = getattr(P, a)[host[family]]
    P.email_pattern[joiner[family]] = 6
    P.email_pattern[host[family]] = 6
    P.email_owner = np.arange(n)
    P.email_owner[joiner[family]] = host[family]
    junior = np.flatnonzero(rng.random(n) < LOOKALIKES["same_name_parent_child"])
    parent = rng.integers(0, n, junior.size)
    ok = np.abs(P.age[junior] - P.age[parent]) >= 18
    junior, parent = junior[ok], parent[ok]
    P.lookalike_of[junior], P.lookalike_kind[junior] = parent, "same_name_parent_child"
    for a in ("female", "first", "surname", *ADDRESS):
        getattr(P, a)[junior] = getattr(P, a)[parent]
    twin = np.flatnonzero(rng.random(n) < LOOKALIKES["twin"])
    sibling = rng.integers(0, n, twin.size)
    P.lookalike_of[twin], P.lookalike_kind[twin] = sibling, "twin"
    for a in ("surname", *ADDRESS, "age", "birth_day"):
        getattr(P, a)[twin] = getattr(P, a)[sibling]
    namesake = np.flatnonzero(rng.random(n) < LOOKALIKES["namesake"])
    other = rng.integers(0, n, namesake.size)
    P.lookalike_of[namesake], P.lookalike_kind[namesake] = other, "namesake"
    for a in ("female", "first", "surname"):
        getattr(P, a)[namesake] = getattr(P, a)[other]
    local = rng.random(namesake.size) < 0.5
    P.city[namesake[local]] = P.city[other[local]]

    # preferences: categories (segment + gender tilt, per-person Dirichlet) and channels
    cat = np.array([s["categories"] for s in seg])[P.segment]
    tilt = np.ones((n, len(CATEGORY_NAMES)))
    tilt[:, 0] = np.where(P.female, 1.6, 0.45)
    tilt[:, 1] = np.where(P.female, 0.5, 1.7)
    cat = cat * tilt
    cat = cat / cat.sum(axis=1, keepdims=True)
    g = rng.gamma(np.maximum(25.0 * cat, 1e-3))
    P.category_pref = g / g.sum(axis=1, keepdims=True)
    ch = np.array([s["channels"] for s in seg])[P.segment]
    g = rng.gamma(np.maximum(12.0 * ch, 1e-3))
    P.channel_mix = g / g.sum(axis=1, keepdims=True)
    P.lines_p = np.array([s["lines"] for s in seg])[P.segment]

    # acquisition: a launch cohort in the first 8 weeks, then steady growth until 80% of the period
    H = cal.horizon
    P.t0 = np.where(rng.random(n) < 0.3, rng.uniform(0, 56, n), rng.uniform(0, 0.8 * H, n))
    P.t0 = np.minimum(P.t0, H - 1)

    # record layout: primary system from channel habits, an exact count of duplicates
    P.primary_web = rng.random(n) < np.clip(P.channel_mix[:, 1] * 1.1, 0.05, 0.95)
    n_dup = int(round(duplicate_rate * n))
    P.dup = np.zeros(n, dtype=bool)
    P.dup[rng.choice(n, size=n_dup, replace=False)] = True
    P.has_crm = ~P.primary_web | P.dup
    P.has_web = P.primary_web | P.dup
    P.first_channel = np.where(P.primary_web, 1, rng.choice([0, 0, 0, 0, 0, 0, 0, 0, 2, 3], size=n))
    day0 = np.floor(P.t0).astype(np.int64)
    P.first_s = cal.day_seconds(day0, time_of_day(rng, P.first_channel))
    # the second record is opened some time after the first purchase
    P.sec_t = P.t0 + rng.uniform(0, 1, n) * (H - P.t0)
    P.sec_s = cal.seconds(P.sec_t)
    # a few second records that nothing refers to (bad rows may be planted on them)
    P.sec_ref_ok = np.ones(n, dtype=bool)
    return P


# --------------------------------------------------------------------------- record text


def _typo(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Swap two neighbouring letters or drop one (never the first), for strings of 4+ letters."""
    s = np.asarray(s, dtype=str)
    if s.size == 0:
        return s
    w = s.dtype.itemsize // 4
    codes = np.concatenate(
        [s.view(np.uint32).reshape(s.size, w), np.zeros((s.size, 1), np.uint32)], axis=1
    )
    lens = np.char.str_len(s)
    ok = lens >= 4
    pos = 1 + np.floor(rng.random(s.size) * np.maximum(lens - 2, 1)).astype(np.int64)
    pos = np.minimum(pos, np.maximum(lens - 2, 0))
    swap = ok & (rng.random(s.size) < 0.5)
    drop = ok & ~swap
    r = np.arange(s.size)
    a, b = codes[r, pos].copy(), codes[r, pos + 1].copy()
    codes[r, pos] = np.where(swap, b, a)
    codes[r, pos + 1] = np.where(swap, a, b)
    col = np.arange(w + 1)
    src = np.minimum(col[None, :] + (drop[:, None] & (col[None, :] >= pos[:, None])), w)
    codes = np.take_along_axis(codes, src, axis=1)[:, :w]
    return np.ascontiguousarray(codes).view(f"<U{w}").reshape(s.size)


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _digits(x: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(np.asarray(x, dtype=np.int64)), pa.string()), width, "0")


def record_ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """'C0000001'-style identifiers."""
    return _join(pa.scalar(prefix), _digits(numbers, 7))


def _mask(arr: pa.Array, drop: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(drop), pa.scalar(None, arr.type), arr)


def _phone(digits9: np.ndarray, style: np.ndarray) -> pa.Array:
    """UK mobile numbers in six common spellings of the same digits."""
    d = _digits(digits9, 9)
    a, b = pc.utf8_slice_codeunits(d, 0, 3), pc.utf8_slice_codeunits(d, 3, 9)
    b1, b2 = pc.utf8_slice_codeunits(d, 3, 6), pc.utf8_slice_codeunits(d, 6, 9)
    forms = [
        _join("07", a, b),  # 07700900123
        _join("07", a, " ", b),  # 07700 900123
        _join("+44 7", a, " ", b),  # +44 7700 900123
        _join("07", a, "-", b1, "-", b2),  # 07700-900-123
        _join("+447", a, b),  # +447700900123
        _join("(07", a, ") ", b),  # (07700) 900123
    ]
    out = forms[0]
    for k in range(1, len(forms)):
        out = pc.if_else(pa.array(style == k), forms[k], out)
    return out


def _pick(values, idx) -> np.ndarray:
    return np.asarray(values, dtype=str)[np.asarray(idx)]


def _record_text(
    P: Persons, who: np.ndarray, noisy: np.ndarray, web: bool, rng
) -> dict[str, pa.Array]:
    """Name, contact and address strings for persons ``who``; ``noisy`` rows get second-copy noise."""
    m = who.size
    female = P.female[who]
    fidx = np.where(female, P.first[who] % len(lex.FIRST_F), P.first[who] % len(lex.FIRST_M))
    first_clean = np.where(
        female,
        _pick(lex.FIRST_F, fidx % len(lex.FIRST_F)),
        _pick(lex.FIRST_M, fidx % len(lex.FIRST_M)),
    )
    sur_clean = _pick(lex.SURNAMES, P.surname[who])
    first, sur = first_clean.copy(), sur_clean.copy()
    # second copies: nicknames, a married name, a typo in the first name or surname, a middle initial
    nick = noisy & (rng.random(m) < DUPLICATE_NOISE["nickname"])
    nick_f = _pick([lex.NICKNAMES.get(x, x) for x in lex.FIRST_F], fidx % len(lex.FIRST_F))
    nick_m = _pick([lex.NICKNAMES.get(x, x) for x in lex.FIRST_M], fidx % len(lex.FIRST_M))
    first = np.where(nick, np.where(female, nick_f, nick_m), first)
    married = noisy & female & (rng.random(m) < DUPLICATE_NOISE["married_name_of_women"])
    sur = np.where(married, _pick(lex.SURNAMES, _zipf_choice(rng, len(lex.SURNAMES), m, 0.9)), sur)
    t = noisy & (rng.random(m) < DUPLICATE_NOISE["name_typo"])
    in_first = rng.random(m) < 0.5
    first = np.where(t & in_first, _typo(first, rng), first)
    sur = np.where(t & ~in_first, _typo(sur, rng), sur)
    initial = noisy & (rng.random(m) < DUPLICATE_NOISE["middle_initial"])
    first_a = _join(
        pa.array(first),
        pa.array(np.where(initial, " ", "")),
        pa.array(
            np.where(initial, np.array(list("ABCDEFGHJKLMNPRSTW"))[rng.integers(0, 18, m)], "")
        ),
    )
    name = _join(first_a, " ", pa.array(sur))
    if web:  # some web users type in lower case
        name = pc.if_else(pa.array(rng.random(m) < 0.05), pc.utf8_lower(name), name)

    # e-mail: the person's own address; second copies may hold another one or a slip of the keyboard
    local, dom = P.email_local[who], P.email_domain_text[who]
    changed = noisy & (rng.random(m) < DUPLICATE_NOISE["other_email"])
    other_local = _join(
        pc.replace_substring(pc.utf8_lower(pa.array(first_clean)), "'", ""),
        ".",
        pc.replace_substring(pc.utf8_lower(pa.array(sur_clean)), "'", ""),
        _digits(rng.integers(0, 10_000, m), 4),
    )
    local = np.where(
        changed, np.asarray(other_local.to_numpy(zero_copy_only=False), dtype=str), local
    )
    dom_idx = np.where(changed, rng.integers(0, len(lex.EMAIL_DOMAINS), m), P.email_domain[who])
    dom = np.where(changed, _pick(lex.EMAIL_DOMAINS, dom_idx), dom)
    local_typo = noisy & ~changed & (rng.random(m) < DUPLICATE_NOISE["email_local_typo"])
    local = np.where(local_typo, _typo(local, rng), local)
    dom_typo = noisy & ~changed & (rng.random(m) < DUPLICATE_NOISE["email_domain_typo"])
    dom = np.where(dom_typo, _pick([lex.DOMAIN_TYPOS[d] for d in lex.EMAIL_DOMAINS], dom_idx), dom)
    email = _mask(
        _join(pa.array(local), "@", pa.array(dom)),
        rng.random(m) < np.where(noisy, DUPLICATE_NOISE["email_missing"], 0.03),
    )

    # phone: each system has its habits; a few second copies hold a newer number
    style = np.where(rng.random(m) < 0.7, 4 if web else 1, rng.integers(0, 6, m))
    digits = P.phone[who].copy()
    newer = noisy & (rng.random(m) < DUPLICATE_NOISE["newer_phone"])
    digits[newer] = rng.integers(0, 10**9, newer.sum())
    phone = _mask(
        _phone(digits, style),
        rng.random(m) < np.where(noisy, DUPLICATE_NOISE["phone_missing"], 0.04),
    )

    # address, postcode, town: some second copies are from before or after a move
    moved = noisy & (rng.random(m) < DUPLICATE_NOISE["moved_house"])

    def where_moved(attr, new):
        return np.where(moved, new, getattr(P, attr)[who])

    house = where_moved("house", rng.integers(1, 160, m))
    street = where_moved("street", rng.integers(0, len(lex.STREETS), m))
    street_type = where_moved("street_type", rng.integers(0, len(lex.STREET_TYPES), m))
    city_w = np.array([c[3] for c in lex.CITIES])
    city_idx = where_moved(
        "city",
        np.where(
            rng.random(m) < 0.5,
            P.city[who],
            rng.choice(len(lex.CITIES), size=m, p=city_w / city_w.sum()),
        ),
    )
    district = where_moved("pc_district", rng.integers(1, 30, m))
    sector = where_moved("pc_sector", rng.integers(1, 10, m))
    unit = where_moved("pc_unit", rng.integers(0, 400, m))
    st_type = np.asarray(lex.STREET_TYPES)[street_type]
    abbrev = noisy & (rng.random(m) < DUPLICATE_NOISE["street_abbreviated"])
    st_type = np.where(
        abbrev, _pick([lex.STREET_ABBREV[s] for s in lex.STREET_TYPES], street_type), st_type
    )
    address = _join(
        pc.cast(pa.array(house), pa.string()),
        " ",
        pa.array(_pick(lex.STREETS, street)),
        " ",
        pa.array(st_type),
    )
    address = pc.if_else(
        pa.array(noisy & (rng.random(m) < DUPLICATE_NOISE["address_lower_case"])),
        pc.utf8_lower(address),
        address,
    )
    address = _mask(
        address, rng.random(m) < np.where(noisy, DUPLICATE_NOISE["address_missing"], 0.02)
    )
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    area = _pick([c[2] for c in lex.CITIES], city_idx)
    postcode = _join(
        pa.array(area),
        pc.cast(pa.array(district), pa.string()),
        " ",
        pc.cast(pa.array(sector), pa.string()),
        pa.array(letters[unit // 20]),
        pa.array(letters[unit % 20]),
    )
    nospace = noisy & (rng.random(m) < DUPLICATE_NOISE["postcode_without_space"])
    postcode = pc.if_else(pa.array(nospace), pc.replace_substring(postcode, " ", ""), postcode)
    postcode = pc.if_else(
        pa.array(noisy & (rng.random(m) < DUPLICATE_NOISE["postcode_lower_case"])),
        pc.utf8_lower(postcode),
        postcode,
    )
    postcode = _mask(
        postcode, rng.random(m) < np.where(noisy, DUPLICATE_NOISE["postcode_missing"], 0.01)
    )
    city_names = [c[0] for c in lex.CITIES]
    city = _pick(city_names, city_idx)
    variant = _pick([lex.CITY_VARIANTS.get(c, c) for c in city_names], city_idx)
    city = np.where(noisy & (rng.random(m) < DUPLICATE_NOISE["town_variant"]), variant, city)
    region = _pick([c[1] for c in lex.CITIES], city_idx)
    return dict(
        name=name,
        email=email,
        phone=phone,
        address=address,
        postcode=postcode,
        city=pa.array(city),
        region=pa.array(region),
    )


def _birth_dates(
    P: Persons, who: np.ndarray, noisy: np.ndarray, rng
) -> tuple[pa.Array, np.ndarray]:
    """Birth dates as timestamps; second copies sometimes swap day and month, slip a year or lack it."""
    m = who.size
    day = P.birth_day[who].astype("datetime64[D]")
    yr = day.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = day.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (day - day.astype("datetime64[M]")).astype(np.int64) + 1
    swap = (
        noisy
        & (dd <= 12)
        & (dd != mo)
        & (rng.random(m) < DUPLICATE_NOISE["birth_day_month_swapped"])
    )
    slip = noisy & ~swap & (rng.random(m) < DUPLICATE_NOISE["birth_year_off_by_one"])
    mo2, dd2 = np.where(swap, dd, mo), np.where(swap, mo, dd)
    yr2 = yr + np.where(slip, rng.choice([-1, 1], m), 0)
    dd2 = np.minimum(
        dd2,
        28 * (mo2 == 2) + 30 * np.isin(mo2, (4, 6, 9, 11)) + 31 * ~np.isin(mo2, (2, 4, 6, 9, 11)),
    )
    out = (yr2 - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (mo2 - 1).astype(
        "timedelta64[M]"
    )
    out = out.astype("datetime64[D]") + (dd2 - 1).astype("timedelta64[D]")
    missing = rng.random(m) < np.where(noisy, DUPLICATE_NOISE["birth_date_missing"], 0.02)
    secs = out.astype("datetime64[s]").astype(np.int64)
    return _mask(pa.array(secs, type=pa.timestamp("s")), missing), missing


def _person_emails(P: Persons, rng: np.random.Generator) -> None:
    """One e-mail address per person, unique except the family addresses households share."""
    n = P.n
    first = np.where(
        P.female,
        _pick(lex.FIRST_F, P.first % len(lex.FIRST_F)),
        _pick(lex.FIRST_M, P.first % len(lex.FIRST_M)),
    )
    f_low = pc.replace_substring(pc.utf8_lower(pa.array(first)), "'", "")
    s_low = pc.replace_substring(pc.utf8_lower(pa.array(_pick(lex.SURNAMES, P.surname))), "'", "")
    num = pc.cast(pa.array(P.email_num), pa.string())
    initial = pc.utf8_slice_codeunits(f_low, 0, 1)
    yy = pc.cast(pa.array((1970 + P.birth_day // 365) % 100), pa.string())
    locals_ = [
        _join(f_low, ".", s_low),
        _join(f_low, s_low),
        _join(initial, ".", s_low),
        _join(f_low, "_", s_low, num),
        _join(f_low, ".", s_low, num),
        _join(f_low, s_low, yy),
        _join(s_low, "family", num),
    ]
    local = locals_[0]
    for k in range(1, len(locals_)):
        local = pc.if_else(pa.array(P.email_pattern == k), locals_[k], local)
    local = np.asarray(local.to_numpy(zero_copy_only=False), dtype=str)
    dom = _pick(lex.EMAIL_DOMAINS, P.email_domain)
    owner = P.email_owner
    for _ in range(10):  # a provider gives an address to one owner only: add digits until unique
        email = np.char.add(np.char.add(local, "@"), dom)
        order = np.lexsort((owner, email))
        e, o = email[order], owner[order]
        starts = np.concatenate([[True], e[1:] != e[:-1]])
        first_owner = o[starts][np.cumsum(starts) - 1]
        clash = np.empty(n, dtype=bool)
        clash[order] = o != first_owner
        if not clash.any():
            break
        suffix = np.asarray(
            _digits(rng.integers(0, 1000, n), 3).to_numpy(zero_copy_only=False), dtype=str
        )
        local[clash] = np.char.add(local[clash], suffix[owner[clash]])
    P.email_local, P.email_domain_text = local, dom


def make_records(P: Persons, rng: np.random.Generator, cal: Calendar, n_unreferenced: int):
    """The crm and web customer tables (raw column names), identity rows and per-person record ids.

    Returns ``(crm_table, web_table, identity_table, bad_crm_rows)`` and sets ``P.crm_id`` and
    ``P.web_id`` (arrow string arrays, null where the person has no record there).
    """
    n = P.n
    # which second records will never be referred to (bad rows may be planted on them)
    _person_emails(P, rng)
    cand = np.flatnonzero(P.dup & P.primary_web)
    unref = (
        rng.choice(cand, size=min(n_unreferenced, cand.size), replace=False) if cand.size else cand
    )
    P.sec_ref_ok[unref] = False

    out = {}
    for system, has, prefix in (("crm", P.has_crm, "C"), ("web", P.has_web, "W")):
        who = np.flatnonzero(has)
        numbers = np.empty(n, dtype=np.int64)
        numbers[:] = -1
        numbers[who] = rng.permutation(who.size) + 1
        ids = record_ids(prefix, numbers[who])
        full = _mask(record_ids(prefix, np.maximum(numbers, 0)), ~has)
        noisy = P.dup[who] & (P.primary_web[who] == (system == "crm"))
        text = _record_text(P, who, noisy, system == "web", rng)
        birth, _ = _birth_dates(P, who, noisy, rng)
        # the first record is opened with the first purchase, a second one later
        signup_s = np.where(noisy, P.sec_s[who], P.first_s[who] - rng.integers(120, 5400, who.size))
        income = P.income[who] * np.where(noisy, np.exp(rng.normal(0, 0.08, who.size)), 1.0)
        income_missing = rng.random(who.size) < (0.10 if system == "crm" else 0.25)
        order = np.argsort(numbers[who])
        out[system] = dict(
            who=who,
            numbers=numbers,
            ids=ids,
            text=text,
            birth=birth,
            signup_s=signup_s,
            income=income,
            income_missing=income_missing,
            noisy=noisy,
            order=order,
        )
        setattr(P, f"{system}_id", full)

    # crm_customers.csv
    c = out["crm"]
    who, o = c["who"], c["order"]
    gender = np.where(P.female[who], "F", "M")
    crm = pa.table(
        {
            "cust_no": c["ids"],
            "name": c["text"]["name"],
            "email": c["text"]["email"],
            "phone": c["text"]["phone"],
            "address": c["text"]["address"],
            "city": c["text"]["city"],
            "region": c["text"]["region"],
            "postcode": c["text"]["postcode"],
            "country": pa.array(np.where(rng.random(who.size) < 0.97, "GB", "UK")),
            "birth_date": pc.strftime(c["birth"], format="%Y-%m-%d"),
            "gender": _mask(pa.array(gender), rng.random(who.size) < 0.02),
            "income": _mask(pa.array(np.round(c["income"], -2)), c["income_missing"]),
            "occupation": _mask(
                pa.array(P.occupation_text[who].astype(str)), rng.random(who.size) < 0.08
            ),
            "education": _mask(
                pa.array(_pick(lex.EDUCATION, P.education[who])), rng.random(who.size) < 0.15
            ),
            "signup_date": pc.strftime(
                pa.array(c["signup_s"], type=pa.timestamp("s")), format="%Y-%m-%d"
            ),
        }
    ).take(pa.array(o))
    crm_unref_rows = np.flatnonzero(
        ~P.sec_ref_ok[who[o]]
    )  # 0-based row numbers of unreferenced records

    w = out["web"]
    who, o = w["who"], w["order"]
    sex = np.where(P.female[who], "F", "M").astype(object)
    r = rng.random(who.size)
    sex[r < 0.03] = "X"
    sex[(r >= 0.03) & (r < 0.08)] = None
    web = pa.table(
        {
            "id": w["ids"],
            "full_name": w["text"]["name"],
            "mail": w["text"]["email"],
            "mobile": w["text"]["phone"],
            "street": w["text"]["address"],
            "town": w["text"]["city"],
            "state": w["text"]["region"],
            "zip": w["text"]["postcode"],
            "dob": pc.strftime(w["birth"], format="%d/%m/%Y"),
            "sex": pa.array(sex, type=pa.string()),
            "annual_income": _mask(pa.array(np.round(w["income"], -3)), w["income_missing"]),
            "job": _mask(pa.array(P.occupation_text[who].astype(str)), rng.random(who.size) < 0.3),
            "edu": _mask(
                pa.array(_pick(lex.EDUCATION, P.education[who])), rng.random(who.size) < 0.4
            ),
            "registered": pc.strftime(
                pa.array(w["signup_s"], type=pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S"
            ),
        }
    ).take(pa.array(o))

    person_ids = record_ids("P", np.arange(n) + 1)
    identity = pa.concat_tables(
        [
            pa.table(
                {
                    "source_customer_id": out[s]["ids"],
                    "source_system": pa.array([s] * out[s]["who"].size),
                    "person_id": pc.take(person_ids, pa.array(out[s]["who"])),
                }
            ).take(pa.array(out[s]["order"]))
            for s in ("crm", "web")
        ]
    )
    P.person_id = person_ids
    # signup second of each person's records, to refer to a record only once it exists
    P.crm_signup_s = np.full(n, np.iinfo(np.int64).max)
    P.crm_signup_s[out["crm"]["who"]] = out["crm"]["signup_s"]
    P.web_signup_s = np.full(n, np.iinfo(np.int64).max)
    P.web_signup_s[out["web"]["who"]] = out["web"]["signup_s"]
    return crm, web, identity, crm_unref_rows


def choose_record(
    P: Persons, person: np.ndarray, ts_s: np.ndarray, want_web: np.ndarray
) -> pa.Array:
    """The record id a source row refers to: the wanted system's record when it exists by then."""
    has_web = P.has_web[person] & (P.web_signup_s[person] <= ts_s)
    has_crm = P.has_crm[person] & (P.crm_signup_s[person] <= ts_s)
    # never refer to an unreferenced second record
    unref = ~P.sec_ref_ok[person]
    has_crm &= ~unref
    use_web = np.where(want_web, has_web | ~has_crm, ~has_crm)
    # fall back to the primary record (it exists from the first purchase on)
    use_web = np.where(~has_web & ~has_crm, P.primary_web[person], use_web)
    idx = pa.array(person)
    return pc.if_else(pa.array(use_web), pc.take(P.web_id, idx), pc.take(P.crm_id, idx))
