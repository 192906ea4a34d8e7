"""A small generator of duplicated customer records with known truth, for the identity tests.

People live in households (shared surname, address, postcode and landline), many share common
names, and each person appears in the CRM, on the web shop, or both, with the noise real sources
have: typos in names and e-mails, phone numbers and postcodes in other formats, missing fields.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FIRST_F = [
    "mary",
    "patricia",
    "jennifer",
    "linda",
    "elizabeth",
    "barbara",
    "susan",
    "jessica",
    "sarah",
    "karen",
    "lisa",
    "nancy",
    "betty",
    "margaret",
    "sandra",
    "ashley",
    "kimberly",
    "emily",
    "donna",
    "michelle",
    "carol",
    "amanda",
    "melissa",
    "deborah",
    "stephanie",
    "rebecca",
    "sharon",
    "laura",
    "cynthia",
    "kathleen",
    "amy",
    "angela",
    "shirley",
    "anna",
    "brenda",
    "pamela",
    "emma",
    "nicole",
    "helen",
    "samantha",
    "katherine",
    "christine",
    "debra",
    "rachel",
    "carolyn",
    "janet",
    "catherine",
    "maria",
    "heather",
    "diane",
    "ruth",
    "julie",
    "olivia",
    "joyce",
    "virginia",
    "victoria",
    "kelly",
    "lauren",
    "christina",
    "joan",
    "evelyn",
    "judith",
    "megan",
    "andrea",
    "cheryl",
    "hannah",
    "jacqueline",
    "martha",
    "gloria",
    "teresa",
    "ann",
    "sara",
    "madison",
    "frances",
    "kathryn",
    "janice",
    "jean",
    "abigail",
    "alice",
    "judy",
    "sophia",
    "grace",
    "denise",
    "amber",
    "doris",
    "marilyn",
    "danielle",
    "beverly",
    "isabella",
    "theresa",
]
FIRST_M = [
    "james",
    "robert",
    "john",
    "michael",
    "david",
    "william",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "christopher",
    "daniel",
    "matthew",
    "anthony",
    "mark",
    "donald",
    "steven",
    "paul",
    "andrew",
    "joshua",
    "kenneth",
    "kevin",
    "brian",
    "george",
    "timothy",
    "ronald",
    "edward",
    "jason",
    "jeffrey",
    "ryan",
    "jacob",
    "gary",
    "nicholas",
    "eric",
    "jonathan",
    "stephen",
    "larry",
    "justin",
    "scott",
    "brandon",
    "benjamin",
    "samuel",
    "gregory",
    "alexander",
    "frank",
    "patrick",
    "raymond",
    "jack",
    "dennis",
    "jerry",
    "tyler",
    "aaron",
    "jose",
    "adam",
    "nathan",
    "henry",
    "douglas",
    "zachary",
    "peter",
    "kyle",
    "ethan",
    "walter",
    "noah",
    "jeremy",
    "christian",
    "keith",
    "roger",
    "terry",
    "gerald",
    "harold",
    "sean",
    "austin",
    "carl",
    "arthur",
    "lawrence",
    "dylan",
    "jesse",
    "jordan",
    "bryan",
    "billy",
    "joe",
    "bruce",
    "gabriel",
    "logan",
    "albert",
    "willie",
    "alan",
    "juan",
    "wayne",
    "elijah",
    "randy",
    "roy",
    "vincent",
    "ralph",
    "eugene",
    "russell",
]
SURNAMES = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "gomez",
    "phillips",
    "evans",
    "turner",
    "diaz",
    "parker",
    "cruz",
    "edwards",
    "collins",
    "reyes",
    "stewart",
    "morris",
    "morales",
    "murphy",
    "cook",
    "rogers",
    "gutierrez",
    "ortiz",
    "morgan",
    "cooper",
    "peterson",
    "bailey",
    "reed",
    "kelly",
    "howard",
    "ramos",
    "kim",
    "cox",
    "ward",
    "richardson",
    "watson",
    "brooks",
    "chavez",
    "wood",
    "james",
    "bennett",
    "gray",
    "mendoza",
    "ruiz",
    "hughes",
    "price",
    "alvarez",
    "castillo",
    "sanders",
    "patel",
    "myers",
    "long",
    "ross",
    "foster",
    "jimenez",
    "powell",
    "jenkins",
    "perry",
    "russell",
    "sullivan",
    "bell",
    "coleman",
    "butler",
    "henderson",
    "barnes",
    "gonzales",
    "fisher",
    "vasquez",
    "simmons",
    "romero",
    "jordan",
    "patterson",
    "alexander",
    "hamilton",
    "graham",
    "reynolds",
    "griffin",
    "wallace",
    "moreno",
    "west",
    "cole",
    "hayes",
    "bryant",
    "herrera",
    "gibson",
    "ellis",
    "tran",
    "medina",
    "aguilar",
    "stevens",
    "murray",
    "ford",
    "castro",
    "marshall",
    "owens",
    "harrison",
    "fernandez",
    "mcdonald",
    "woods",
    "washington",
    "kennedy",
    "wells",
    "vargas",
    "henry",
    "chen",
    "freeman",
    "webb",
    "tucker",
    "guzman",
    "burns",
    "crawford",
    "olson",
    "simpson",
    "porter",
]
STREETS = [
    "high",
    "church",
    "station",
    "victoria",
    "green",
    "manor",
    "park",
    "queens",
    "kings",
    "mill",
    "school",
    "london",
    "york",
    "albert",
    "grange",
    "windsor",
    "springfield",
    "north",
    "south",
    "west",
    "east",
    "new",
    "orchard",
    "chapel",
]
STREET_KINDS = ("street", "road", "avenue", "lane", "close", "drive")
DOMAINS = ("gmail.com", "yahoo.co.uk", "hotmail.com", "outlook.com", "btinternet.com", "icloud.com")
LETTERS = "ABCDEFGHJKLMNPRSTUWY"


def _typo(rng: np.random.Generator, s: str) -> str:
    if len(s) < 3:
        return s
    i = int(rng.integers(1, len(s) - 1))
    kind = rng.integers(4)
    if kind == 0:  # substitution
        return s[:i] + "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(26))] + s[i + 1 :]
    if kind == 1:  # deletion
        return s[:i] + s[i + 1 :]
    if kind == 2:  # insertion
        return s[:i] + "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(26))] + s[i:]
    return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]  # transposition


def _people(n: int, rng: np.random.Generator) -> list[dict]:
    people: list[dict] = []
    while len(people) < n:
        size = int(rng.choice([1, 1, 1, 2, 2, 3]))
        surname = str(rng.choice(SURNAMES))
        postcode = (
            f"{rng.choice(list(LETTERS))}{rng.choice(list(LETTERS))}{rng.integers(1, 30)} "
            f"{rng.integers(1, 10)}{rng.choice(list(LETTERS))}{rng.choice(list(LETTERS))}"
        )
        address = f"{rng.integers(1, 200)} {rng.choice(STREETS).title()} {rng.choice(STREET_KINDS).title()}"
        landline = f"01{rng.integers(100, 999)} {rng.integers(100000, 999999)}"
        for _ in range(size):
            female = bool(rng.random() < 0.5)
            first = str(rng.choice(FIRST_F if female else FIRST_M))
            dob = pd.Timestamp("1940-01-01") + pd.Timedelta(days=int(rng.integers(0, 23000)))
            user = rng.choice([f"{first}.{surname}", f"{first}{surname}", f"{first[0]}{surname}"])
            user = f"{user}{rng.integers(1, 99)}" if rng.random() < 0.5 else user
            people.append(
                {
                    "person_id": f"P{len(people):06d}",
                    "first": first,
                    "surname": surname,
                    "dob": dob,
                    "email": f"{user}@{rng.choice(DOMAINS)}",
                    "mobile": f"07{rng.integers(100, 999)} {rng.integers(100000, 999999)}",
                    "landline": landline,
                    "postcode": postcode,
                    "address": address,
                    "gender": "F" if female else "M",
                }
            )
    return people[:n]


def _record(p: dict, rng: np.random.Generator, *, style: str, noise: float) -> dict:
    first, surname = p["first"], p["surname"]
    if rng.random() < noise:
        first = _typo(rng, first)
    if rng.random() < noise / 2:
        surname = _typo(rng, surname)
    if style == "crm":
        name = f"{first.title()} {surname.title()}"
    else:
        name = rng.choice(
            [
                f"{first} {surname}",
                f"{surname.upper()}, {first.title()}",
                f"{first.title()} {surname.title()}",
            ]
        )
    email = p["email"]
    r = rng.random()
    if r < noise:
        user, dom = email.split("@")
        email = f"{_typo(rng, user)}@{dom}"
    elif r < 1.5 * noise:
        email = f"{email.split('@')[0]}@{rng.choice(DOMAINS)}"
    elif r < 2.5 * noise:
        email = None
    if email is not None and style == "web" and rng.random() < 0.3:
        email = email.upper()
    digits = p["mobile"].replace(" ", "")
    if rng.random() < noise / 3:
        k = int(rng.integers(2, len(digits)))
        digits = digits[:k] + str(rng.integers(10)) + digits[k + 1 :]
    phone = rng.choice(
        [
            digits,
            f"{digits[:5]} {digits[5:]}",
            f"+44 {digits[1:5]} {digits[5:]}",
            f"+44{digits[1:]}",
        ]
    )
    if rng.random() < 0.2:
        phone = p["landline"] if rng.random() < 0.3 else None
    postcode = p["postcode"]
    postcode = rng.choice([postcode, postcode.replace(" ", ""), postcode.lower()])
    if rng.random() < noise:
        postcode = None
    address = p["address"]
    if style == "web" and rng.random() < 0.5:
        address = address.lower().replace(" street", " st").replace(" road", " rd")
    if rng.random() < noise:
        address = None
    dob = p["dob"]
    if rng.random() < noise:
        dob = None
    elif rng.random() < noise / 4:
        dob = dob + pd.Timedelta(days=int(rng.choice([-1, 1, 10, -10])))
    gender = p["gender"] if style == "crm" else {"F": "female", "M": "male"}[p["gender"]]
    if rng.random() < noise:
        gender = None
    return {
        "name": name,
        "email": email,
        "phone": phone,
        "address": address,
        "postcode": postcode,
        "birth_date": dob,
        "gender": gender,
    }


def fake_customers(
    n_people: int, *, seed: int = 0, noise: float = 0.1, p_crm: float = 0.85, p_web: float = 0.45
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, truth): canonical customers of two sources and their true person ids."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for p in _people(n_people, rng):
        in_crm = rng.random() < p_crm
        in_web = rng.random() < p_web or not in_crm
        copies = [("crm", in_crm), ("web", in_web)]
        for src, present in copies:
            n_copies = int(present) + int(present and rng.random() < 0.03)
            for _ in range(n_copies):
                cid = f"{src.upper()}-{len(rows):07d}"
                rec = _record(p, rng, style=src, noise=noise)
                rows.append({"customer_id": cid, **rec, "source_system": src})
                truth.append({"source_customer_id": cid, "person_id": p["person_id"]})
    customers = pd.DataFrame(rows)
    customers["birth_date"] = pd.to_datetime(customers["birth_date"])
    return customers, pd.DataFrame(truth)


# -- the crmine simulator's source files, loaded by hand into canonical customers -------------------
CRM_COLUMNS = {"cust_no": "customer_id"}
WEB_COLUMNS = {
    "id": "customer_id", "full_name": "name", "mail": "email", "mobile": "phone", "street": "address",
    "town": "city", "state": "region", "zip": "postcode", "dob": "birth_date", "sex": "gender",
    "annual_income": "income", "job": "occupation", "edu": "education", "registered": "signup_date",
}  # fmt: skip


def load_simulated(out_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, truth) from the files ``crmine.datasets.simulate`` wrote under ``out_dir``."""
    from pathlib import Path

    root = Path(out_dir)
    crm = pd.read_csv(root / "sources" / "crm_customers.csv", dtype=str, keep_default_na=False)
    crm = crm.rename(columns=CRM_COLUMNS)
    crm["birth_date"] = pd.to_datetime(crm["birth_date"], format="%Y-%m-%d", errors="coerce")
    crm["source_system"] = "crm"
    web = pd.read_json(root / "sources" / "web_customers.jsonl", lines=True, dtype=False)
    web = web.rename(columns=WEB_COLUMNS)
    web["customer_id"] = web["customer_id"].astype(str)
    web["birth_date"] = pd.to_datetime(web["birth_date"], format="%d/%m/%Y", errors="coerce")
    web["source_system"] = "web"
    keep = ["customer_id", "name", "email", "phone", "address", "city", "region", "postcode",
            "birth_date", "gender", "source_system"]  # fmt: skip
    frames = []
    for df in (crm, web):
        df = df[[c for c in keep if c in df.columns]].copy()
        for c in df.columns:
            if c != "birth_date":
                df[c] = df[c].astype("string").str.strip().replace("", pd.NA)
        frames.append(df)
    customers = pd.concat(frames, ignore_index=True)
    truth = pd.read_csv(root / "truth" / "identity.csv", dtype=str)
    return customers, truth[["source_customer_id", "person_id"]]
