"""The purchase process (BG/NBD + Gamma-Gamma), products, promotions, prices and order lines.

Time unit of the BG/NBD process: weeks of *operational* time, i.e. calendar time warped by the
seasonal intensity (``Calendar``), so that counts follow BG/NBD exactly in operational time and show
a December peak in calendar time.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import betaincinv, gammaincinv

from crmine.datasets import _simulate_lexicon as lex
from crmine.datasets._simulate_people import (
    CATEGORY_NAMES,
    CHANNELS,
    SEGMENT_NAMES,
    SEGMENTS,
    Calendar,
    Persons,
    choose_record,
    time_of_day,
)

BGNBD = {"r": 0.85, "alpha": 4.2, "a": 0.9, "b": 6.0, "time_unit": "weeks"}
GAMMA_GAMMA = {"p": 6.0, "q": 3.5, "gamma": 30.0}
# Latent dropout score z = segment dropout_level + sum(coef * (feature - segment mean)) + N(0, 1);
# p = BetaPPF(rank(z)). Levels are chosen so that purchase rate and dropout stay uncorrelated.
CHURN_COEFFICIENTS = {"age": -0.35, "log_income": -0.45, "service": -0.45}
CHURN_FEATURES = {
    "age": "(age_years_at_start - 45) / 15",
    "log_income": "(ln(income) - ln(40000)) / 0.5",
    "service": "mean over the person's interactions of (satisfaction - 3); 0 without interactions",
}
# quantity - 1 ~ Poisson(base_extra_units * price_ratio ** elasticity), price_ratio = unit_price / list_price
ELASTICITY = {
    "women": -1.8,
    "men": -1.6,
    "kids": -1.1,
    "home": -1.3,
    "beauty": -0.9,
    "electronics": -2.2,
}
BASE_EXTRA_UNITS = {
    "women": 0.35,
    "men": 0.30,
    "kids": 0.60,
    "home": 0.40,
    "beauty": 0.55,
    "electronics": 0.10,
}
RETURN_RATE = {
    "women": 0.09,
    "men": 0.07,
    "kids": 0.04,
    "home": 0.03,
    "beauty": 0.02,
    "electronics": 0.05,
}
RETURN_WEB_FACTOR = 1.8
SALES_METHODS = ("self-service", "assisted", "subscription")
# P(sales method | channel): rows store, web, catalog, phone
SALES_METHOD_MIX = ((0.55, 0.45, 0.0), (0.95, 0.0, 0.05), (0.0, 0.6, 0.4), (0.0, 1.0, 0.0))
BUDGET_CONCENTRATION = 3.0  # Dirichlet split of an order's value over its lines
STORE_LOYALTY = 0.85  # share of store orders at the home store
MIN_LINE_VALUE = 10.0  # an order worth less than 10 x k has fewer than k lines


def _rank_uniform(z: np.ndarray) -> np.ndarray:
    return (np.argsort(np.argsort(z, kind="stable"), kind="stable") + 0.5) / z.size


def no_purchase_given_history(P: Persons) -> np.ndarray:
    """P(no purchase in the 180 days after the window | the person's purchase history, lambda, p).

    The best forecast anyone could make who sees what the data shows (repeat purchases K, last
    purchase t_x, window T) and even knows the person's lambda and p, but not whether they have
    dropped out: BG/NBD's P(alive | K, t_x, T) = 1 / (1 + [K > 0] p / (1 - p) (e^(lambda (T - t_x))
    - 1)), times the chance an active person buys nothing, e^(-lambda h).
    """
    gap = np.minimum(P.lam * (P.T - P.t_x), 700.0)  # exp overflows past ~709; P(alive) is 0 there
    odds_dead = np.where(P.K > 0, P.p / (1 - P.p) * np.expm1(gap), 0.0)
    alive = 1.0 / (1.0 + odds_dead)
    return 1.0 - alive * (1.0 - np.exp(-P.lam * P.horizon_weeks_180))


def plant_purchases(P: Persons, rng: np.random.Generator, cal: Calendar) -> None:
    """Draw lambda, p, nu per person and the BG/NBD counts, dropout times and 180-day truth."""
    n = P.n
    seg = P.segment
    lam_shift = np.array([SEGMENTS[s]["lambda_shift"] for s in SEGMENT_NAMES])[seg]
    spend_shift = np.array([SEGMENTS[s]["spend_shift"] for s in SEGMENT_NAMES])[seg]
    drop_shift = np.array([SEGMENTS[s]["dropout_level"] for s in SEGMENT_NAMES])[seg]
    # Marginals are exact: each latent score is mapped through its rank to the planted distribution.
    P.lam = gammaincinv(BGNBD["r"], _rank_uniform(lam_shift + rng.normal(size=n))) / BGNBD["alpha"]
    x = {
        "age": (P.age - 45.0) / 15.0,
        "log_income": (np.log(P.income) - np.log(40_000.0)) / 0.5,
        "service": P.service,
    }
    # demographic drivers act within segments (features centred by segment); segments differ by level
    counts = np.bincount(seg, minlength=len(SEGMENT_NAMES))
    P.churn_feature_means = {
        k: np.bincount(seg, weights=v, minlength=len(SEGMENT_NAMES)) / np.maximum(counts, 1)
        for k, v in x.items()
    }
    z = (
        drop_shift
        + rng.normal(size=n)
        + sum(CHURN_COEFFICIENTS[k] * (x[k] - P.churn_feature_means[k][seg]) for k in x)
    )
    P.p = betaincinv(BGNBD["a"], BGNBD["b"], _rank_uniform(z))
    P.p = np.clip(P.p, 1e-9, 1 - 1e-9)
    P.nu = (
        gammaincinv(GAMMA_GAMMA["q"], _rank_uniform(-spend_shift + rng.normal(size=n)))
        / GAMMA_GAMMA["gamma"]
    )
    P.mean_spend = GAMMA_GAMMA["p"] / P.nu

    H = cal.horizon
    P.op0 = cal.op(P.t0)
    P.T = (cal.op(H) - P.op0) / 7.0  # weeks of operational time observed after the first purchase
    N = rng.poisson(P.lam * P.T)  # purchases the person would make in the window if never dropping
    J = rng.geometric(P.p)  # the repeat purchase after which the person drops out
    P.dead = J <= N
    P.K = np.where(P.dead, J, N)  # repeat purchases in the window
    b = np.where(P.dead, N - J + 1, 1)
    tau_dead = P.T * rng.beta(np.where(P.dead, J, 1), b)
    tau_alive = P.T + rng.gamma(np.maximum(J - N, 1)) / P.lam
    P.tau = np.where(P.dead, tau_dead, tau_alive)  # weeks after the first purchase
    P.t_drop = cal.cal(P.op0 + 7.0 * P.tau)
    h = (cal.op(H + 180) - cal.op(H)) / 7.0
    alive = ~P.dead
    P.churn_180 = np.where(alive, 1 - np.exp(-P.lam * P.p * h), 1.0)
    P.no_purchase_180 = np.where(alive, np.exp(-P.lam * h), 1.0)
    P.horizon_weeks_180 = h
    P.t_x = np.zeros(n)  # weeks from the first to the last purchase; filled with the orders
    P.expected_180 = np.where(alive, (1 - np.exp(-P.lam * P.p * h)) / P.p, 0.0)
    P.expected_window = (1 - np.exp(-P.lam * P.p * P.T)) / P.p  # E[X(T) | lambda, p]


# --------------------------------------------------------------------------- products and prices


class Catalog:
    """Products, promotions and the daily price index and promotion of each category."""


def make_catalog(rng: np.random.Generator, cal: Calendar) -> Catalog:
    C = Catalog()
    rows = []
    for ci, (cat, (code, subs, brands, nouns)) in enumerate(lex.CATEGORIES.items()):
        k = 0
        for sub, lo, hi, count in subs:
            prices = np.exp(np.linspace(np.log(lo), np.log(hi), count) + rng.normal(0, 0.05, count))
            prices = np.maximum(np.floor(prices) + 0.99, 1.99)
            for price in prices:
                k += 1
                brand = brands[rng.integers(len(brands))]
                adj = lex.PRODUCT_ADJECTIVES[rng.integers(len(lex.PRODUCT_ADJECTIVES))]
                rows.append(
                    (
                        f"{code}{1000 + k}",
                        f"{brand} {adj} {nouns[sub]}",
                        cat,
                        sub,
                        brand,
                        float(price),
                        float(np.round(price * rng.uniform(0.35, 0.6), 2)),
                        ci,
                    )
                )
    C.products = pa.table(
        {
            "sku": [r[0] for r in rows],
            "title": [r[1] for r in rows],
            "category": [r[2] for r in rows],
            "subcategory": [r[3] for r in rows],
            "brand": [r[4] for r in rows],
            "list_price": [r[5] for r in rows],
            "unit_cost": [r[6] for r in rows],
        }
    )
    C.sku = np.array([r[0] for r in rows])
    C.list_price = np.array([r[5] for r in rows])
    C.category = np.array([r[7] for r in rows])
    # per category: products sorted by price, for picking the product that fits a line budget
    C.by_cat = []
    for ci in range(len(CATEGORY_NAMES)):
        idx = np.flatnonzero(C.category == ci)
        idx = idx[np.argsort(C.list_price[idx])]
        C.by_cat.append((idx, np.log(C.list_price[idx])))
    C.cat_min = np.array([C.list_price[i].min() for i, _ in C.by_cat])
    C.cat_max = np.array([C.list_price[i].max() for i, _ in C.by_cat])

    # promotions: Black Friday week for every category, then sales every 6-13 weeks per category
    H, ncat = cal.horizon, len(CATEGORY_NAMES)
    days = cal.start + np.arange(H)
    pct = np.zeros((H, ncat))
    promo = []  # (start day, end day, category, pct, name)
    years = np.unique(days.astype("datetime64[Y]"))
    for y in years:
        bf = int((np.datetime64(f"{y}-11-24") - cal.start).astype(int))
        for ci in range(ncat):
            if bf >= 0 and bf + 7 <= H:
                promo.append((bf, bf + 6, ci, 25.0, f"Black Friday {CATEGORY_NAMES[ci]} {y}"))
                pct[bf : bf + 7, ci] = 25.0
    for ci in range(ncat):
        t = int(rng.integers(10, 45))
        while t < H - 7:
            length = int(rng.integers(7, 15))
            if pct[t : t + length, ci].max() == 0:
                d = float(rng.choice([10, 15, 20, 25, 30, 40]))
                month = int(days[t].astype("datetime64[M]").astype(int) % 12) + 1
                year = int(days[t].astype("datetime64[Y]").astype(int)) + 1970
                kind = "clearance" if month == 1 else "seasonal"
                promo.append(
                    (
                        t,
                        min(t + length, H) - 1,
                        ci,
                        d,
                        f"{lex.SEASON_NAMES[month]} {kind} {CATEGORY_NAMES[ci]} {year}",
                    )
                )
                pct[t : t + length, ci] = d
            t += length + int(rng.integers(42, 91))
    promo.sort(key=lambda x: (x[0], x[2]))
    C.promo_num = np.full((H, ncat), -1, dtype=np.int64)
    for i, (a, b, ci, _d, _name) in enumerate(promo):
        C.promo_num[a : b + 1, ci] = i
    C.promo_pct = pct
    C.promo_ids = np.array([f"PR{i + 1:04d}" for i in range(len(promo))])
    start_s = [cal.day_seconds(a, 0) for a, *_ in promo]
    end_s = [cal.day_seconds(b, 0) for _, b, *_ in promo]
    C.promotions = pa.table(
        {
            "promotion_id": C.promo_ids,
            "name": [p[4] for p in promo],
            "type": ["percent_off" if "clearance" not in p[4] else "clearance" for p in promo],
            "start": pc.strftime(
                pa.array(np.array(start_s, dtype=np.int64), type=pa.timestamp("s")),
                format="%Y-%m-%d",
            ),
            "end": pc.strftime(
                pa.array(np.array(end_s, dtype=np.int64), type=pa.timestamp("s")), format="%Y-%m-%d"
            ),
            "discount_pct": [p[3] for p in promo],
        }
    )
    C.promo_category = [CATEGORY_NAMES[p[2]] for p in promo]

    # price index per category and quarter: slow drift plus noise
    quarter = (days.astype("datetime64[M]").astype(np.int64)) // 3
    quarter = quarter - quarter[0]
    nq = int(quarter[-1]) + 1
    drift = 1 + 0.02 * (np.arange(nq) / 4.0)
    C.quarter_index = np.round(drift[:, None] * np.exp(rng.normal(0, 0.04, (nq, ncat))), 3)
    C.price_index = C.quarter_index[quarter]
    C.quarter_start = [str(days[np.flatnonzero(quarter == q)[0]]) for q in range(nq)]
    return C


# --------------------------------------------------------------------------- order lines


def _categorical(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    cw = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cw[:, -1]
    return np.minimum((cw < u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def transaction_chunk(
    P: Persons,
    lo: int,
    hi: int,
    rng: np.random.Generator,
    cal: Calendar,
    C: Catalog,
    first_order_no: int,
    store_ids: np.ndarray,
) -> tuple[pa.Table, int]:
    """Order lines (raw columns) of persons ``lo:hi``; order numbers start at ``first_order_no``."""
    H = cal.horizon
    person = np.arange(lo, hi)
    m = person.size
    K, dead = P.K[lo:hi], P.dead[lo:hi]
    # repeat purchase times: sorted uniforms (exponential spacings); the dead add their last purchase
    free = np.where(dead, K - 1, K)
    upper = np.where(dead, P.tau[lo:hi], P.T[lo:hi])
    grp = np.repeat(np.arange(m), free + 1)
    e = rng.standard_exponential(grp.size)
    cs = np.cumsum(e)
    ends = np.cumsum(free + 1) - 1
    base = np.concatenate([[0.0], cs])[ends - free]
    c = cs - base[grp]
    u = c / c[ends][grp]
    keep = np.ones(grp.size, dtype=bool)
    keep[ends] = False
    rep_p, rep_w = grp[keep], (u * upper[grp])[keep]
    last = np.flatnonzero(dead)
    o_local = np.concatenate([np.arange(m), rep_p, last])
    o_weeks = np.concatenate([np.zeros(m), rep_w, upper[last]])
    o_first = np.concatenate([np.ones(m, bool), np.zeros(rep_p.size + last.size, bool)])
    o_person = person[o_local]
    n_orders = o_person.size
    last_purchase = np.zeros(m)
    np.maximum.at(last_purchase, o_local, o_weeks)
    P.t_x[lo:hi] = last_purchase

    # when and where
    t = cal.cal(P.op0[o_person] + 7.0 * o_weeks)
    day = np.minimum(np.floor(t).astype(np.int64), H - 1)
    mix = P.channel_mix[o_person]
    channel = np.where(o_first, P.first_channel[o_person], _categorical(rng, mix))
    ts = cal.day_seconds(day, time_of_day(rng, channel))
    first_s = P.first_s[o_person]
    ts = np.where(o_first, first_s, np.maximum(ts, first_s + 60))
    ts = np.minimum(ts, cal.day_seconds(H - 1, 86399))
    customer = choose_record(P, o_person, ts, channel == 1)
    value = rng.gamma(GAMMA_GAMMA["p"], 1.0 / P.nu[o_person])  # Gamma-Gamma order value

    # lines
    # lines: a small basket holds few lines (each line worth at least MIN_LINE_VALUE)
    lp = P.lines_p[o_person]
    n_lines = np.minimum(_categorical(rng, lp) + 1, np.maximum(1, value // MIN_LINE_VALUE))
    n_lines = n_lines.astype(np.int64)
    li_order = np.repeat(np.arange(n_orders), n_lines)
    line_no = np.arange(li_order.size) - np.repeat(_group_starts(n_lines), n_lines) + 1
    li_person, li_day = o_person[li_order], day[li_order]
    g = rng.gamma(BUDGET_CONCENTRATION, size=li_order.size)
    budget = value[li_order] * g / np.bincount(li_order, weights=g, minlength=n_orders)[li_order]
    # category: preference, promotions (bargain hunters most), and whether the range suits the budget
    on_promo = C.promo_num[li_day] >= 0
    boost = np.array([SEGMENTS[s]["promo_boost"] for s in SEGMENT_NAMES])[P.segment[li_person]]
    fits = (budget[:, None] >= 0.8 * C.cat_min[None, :]) & (
        budget[:, None] <= 1.5 * C.cat_max[None, :]
    )
    weight = P.category_pref[li_person] * (1.0 + boost[:, None] * on_promo)
    cat = _categorical(rng, weight * np.where(fits, 1.0, 0.01))
    pct = C.promo_pct[li_day, cat]
    index = C.price_index[li_day, cat]
    ratio = index * (1 - pct / 100.0)
    eps = np.array([ELASTICITY[c] for c in CATEGORY_NAMES])[cat]
    mu = np.array([BASE_EXTRA_UNITS[c] for c in CATEGORY_NAMES])[cat]
    qty = 1 + rng.poisson(mu * ratio**eps)
    target = np.log(budget / (qty * ratio))
    prod = np.empty(li_order.size, dtype=np.int64)
    for ci, (idx, logp) in enumerate(C.by_cat):
        sel = np.flatnonzero(cat == ci)
        j = np.clip(np.searchsorted(logp, target[sel]), 1, logp.size - 1)
        j = j - ((target[sel] - logp[j - 1]) < (logp[j] - target[sel]))
        prod[sel] = idx[j]
    lst = C.list_price[prod]
    unit_price = np.round(lst * ratio, 2)
    shelf = np.round(lst * index, 2)
    discount = np.round(qty * np.maximum(shelf - unit_price, 0), 2)
    amount = np.round(qty * unit_price, 2)
    promo_num = np.where(pct > 0, C.promo_num[li_day, cat], -1)
    li_channel = channel[li_order]
    method = _categorical(rng, np.asarray(SALES_METHOD_MIX)[channel])[li_order]
    home = P.city[o_person]
    store = np.where(
        rng.random(n_orders) < STORE_LOYALTY, home, rng.integers(0, store_ids.size, n_orders)
    )
    li_store = np.where(li_channel == 0, store[li_order], -1)

    # returns: whole lines, grouped into one return order per original order, 2-30 days later
    rate = np.array([RETURN_RATE[c] for c in CATEGORY_NAMES])[cat] * np.where(
        li_channel == 1, RETURN_WEB_FACTOR, 1.0
    )
    ret = np.flatnonzero(rng.random(li_order.size) < rate)
    ret_delay = rng.integers(2 * 86400, 30 * 86400, n_orders)
    ret_ts = ts + ret_delay
    ret = ret[ret_ts[li_order[ret]] <= cal.day_seconds(H - 1, 86399)]
    r_orders, r_inv = np.unique(li_order[ret], return_inverse=True)
    r_count = np.bincount(r_inv, minlength=r_orders.size)
    order_of_ret = np.argsort(r_inv, kind="stable")
    ret = ret[order_of_ret]
    r_inv = r_inv[order_of_ret]
    r_line_no = np.arange(ret.size) - np.repeat(_group_starts(r_count), r_count) + 1

    # order numbers follow time within the chunk
    all_ts = np.concatenate([ts, ret_ts[r_orders]])
    rank = np.empty(all_ts.size, dtype=np.int64)
    rank[np.lexsort((np.arange(all_ts.size), all_ts))] = np.arange(all_ts.size)
    order_no = first_order_no + rank
    L = li_order.size
    sale_ret = np.concatenate([np.zeros(L, bool), np.ones(ret.size, bool)])
    src = np.concatenate([np.arange(L), ret])
    on = np.concatenate([order_no[li_order], order_no[n_orders + r_inv]])
    ln = np.concatenate([line_no, r_line_no])
    tss = np.concatenate([ts[li_order], ret_ts[li_order[ret]]])
    sort = np.lexsort((ln, on))
    src, on, ln, tss, sale_ret = src[sort], on[sort], ln[sort], tss[sort], sale_ret[sort]
    sign = np.where(sale_ret, -1.0, 1.0)
    take = pa.array(src)
    stores = pa.array(
        np.where(li_store[src] >= 0, store_ids[np.maximum(li_store[src], 0)], None),
        type=pa.string(),
    )
    promos = pa.array(
        np.where(promo_num[src] >= 0, C.promo_ids[np.maximum(promo_num[src], 0)], None),
        type=pa.string(),
    )
    table = pa.table(
        {
            "order_id": pc.binary_join_element_wise(
                pa.scalar("O"), pc.utf8_lpad(pc.cast(pa.array(on), pa.string()), 9, "0"), ""
            ),
            "line_no": pa.array(ln),
            "customer": pc.take(pc.take(customer, pa.array(li_order)), take),
            "ts": pa.array(tss, type=pa.timestamp("s")),
            "sku": pa.array(C.sku[prod[src]]),
            "qty": pa.array(qty[src]),
            "unit_price": pa.array(unit_price[src]),
            "amount": pa.array(sign * amount[src]),
            "discount": pa.array(np.where(sale_ret, 0.0, discount[src])),
            "channel": pa.array(np.asarray(CHANNELS)[li_channel[src]]),
            "sales_method": pa.array(np.asarray(SALES_METHODS)[method[src]]),
            "store_id": stores,
            "promotion_id": promos,
            "is_return": pa.array(sale_ret.astype(np.int8)),
        }
    )
    return table, first_order_no + all_ts.size
