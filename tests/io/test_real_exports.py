"""Small, faithful copies of real retail exports: inspected with `init --from`, then loaded.

Each file is written here, line by line, with the quirk it carries and what must become of it;
the counts asserted are worked out by hand from those comments, never read off crmine's output.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import crmine
from crmine.cli import app
from crmine.io import inspect_file, settings_text

# UCI Online Retail (Chen, Sahan & Guo 2012): latin-1, month-first times without zero padding,
# float-looking customer ids, cancellations prefixed C, postage and adjustments among the goods.
ONLINE_RETAIL = [
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom",  # 2 sale
    "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom",  # 3 sale
    "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom",  # 4 same again: a sale too
    "C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527.0,United Kingdom",  # 5 return, non-product
    "C536383,35004C,SET OF 3 COLOURED  FLYING DUCKS,-1,12/13/2010 9:49,4.65,15311.0,United Kingdom",  # 6 return
    "536370,POST,POSTAGE,3,12/13/2010 8:45,18.00,12583.0,France",  # 7 non-product
    "536414,22139,,56,12/14/2010 11:52,0.00,,United Kingdom",  # 8 zero price, guest
    "536544,21773,DECORATIVE ROSE BATHROOM BOTTLE,1,12/15/2010 14:32,2.51,,United Kingdom",  # 9 guest
    "A563185,B,Adjust bad debt,1,12/16/2010 14:50,-11062.06,,United Kingdom",  # 10 negative price: adjustment, guest
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",  # 11 header again
    "536365 , 85123A ,WHITE HANGING HEART T-LIGHT HOLDER,2,12/20/2010 8:26,2.55, 17850 ,United Kingdom",  # 12 spaces
    "536600,84029E,CAFÉ WOOLLY HOTTIE WHITE HEART.,6,12/20/2010 9:00,3.39,13047.0,United Kingdom",  # 13 latin-1
]

# Online Retail II: other column names, ISO times, a space in "Customer ID", semicolons.
ONLINE_RETAIL_II = [
    "Invoice;StockCode;Description;Quantity;InvoiceDate;Price;Customer ID;Country",
    "489434;85048;15CM CHRISTMAS GLASS BALL 20 LIGHTS;12;2009-12-01 07:45:00;6.95;13085;United Kingdom",
    "489434;79323P;PINK CHERRY LIGHTS;12;2009-12-01 07:45:00;6.75;13085;United Kingdom",
    "489435;22350;CAT BOWL;12;2009-12-01 07:46:00;2.55;13085;United Kingdom",
    "C489449;22087;PAPER BUNTING WHITE LACE;-12;2009-12-01 10:33:00;2.95;16321;Australia",
    "489436;POST;POSTAGE;1;2009-12-01 09:06:00;18.00;13078;United Kingdom",
    "489437;21523;DOORMAT FANCY FONT HOME SWEET HOME;1;2009-12-02 09:08:00;8.50;;United Kingdom",
]

# Superstore: day-first dates, customers and products described on every line, sales as money.
SUPERSTORE = [
    "Row ID,Order ID,Order Date,Ship Date,Ship Mode,Customer ID,Customer Name,Segment,Country,City,"
    "Postal Code,Region,Product ID,Category,Sub-Category,Product Name,Sales,Quantity,Discount,Profit",
    "1,CA-2016-152156,08/11/2016,11/11/2016,Second Class,CG-12520,Claire Gute,Consumer,United States,"
    "Henderson,42420,South,FUR-BO-10001798,Furniture,Bookcases,Bush Somerset Collection Bookcase,261.96,2,0,41.9136",
    "2,CA-2016-152156,08/11/2016,11/11/2016,Second Class,CG-12520,Claire Gute,Consumer,United States,"
    "Henderson,42420,South,FUR-CH-10000454,Furniture,Chairs,Hon Deluxe Fabric Upholstered Stacking Chairs,731.94,3,0,219.582",
    "3,CA-2016-138688,12/06/2016,16/06/2016,Second Class,DV-13045,Darrin Van Huff,Corporate,United States,"
    "Los Angeles,90036,West,OFF-LA-10000240,Office Supplies,Labels,Self-Adhesive Address Labels,14.62,2,0,6.8714",
    "4,US-2015-108966,11/10/2015,18/10/2015,Standard Class,SO-20335,Sean O'Donnell,Consumer,United States,"
    "Fort Lauderdale,33311,South,FUR-TA-10000577,Furniture,Tables,Bretford CR4500 Series Slim Rectangular Table,957.5775,5,0.45,-383.031",
    "5,US-2015-108966,11/10/2015,18/10/2015,Standard Class,SO-20335,Sean O'Donnell,Consumer,United States,"
    "Fort Lauderdale,33311,South,OFF-ST-10000760,Office Supplies,Storage,Eldon Fold 'N Roll Cart System,22.368,2,0.2,2.5164",
]


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def _init_from(tmp_path: Path, *files: Path) -> crmine.Workspace:
    root = tmp_path / "ws"
    guesses = [inspect_file(f) for f in files]
    return crmine.init(root, settings_text=settings_text(guesses, root=root))


def _one(ws, sql: str):
    return ws.warehouse.duckdb.execute(sql).fetchall()


def test_online_retail_quirks_load_with_exact_counts(tmp_path):
    path = _write(tmp_path / "Online Retail.csv", ONLINE_RETAIL, encoding="latin-1")
    ws = _init_from(tmp_path, path)
    source = ws.settings.sources[0]
    assert (source.table, source.encoding, source.return_prefix) == ("transactions", "latin-1", "C")
    assert source.formats["ts"] == "%m/%d/%Y %H:%M"

    [result] = ws.ingest.run()
    assert (result.read, result.loaded, result.quarantined) == (12, 11, 1)
    assert result.reasons == {"repeated_header": 1}
    assert result.kept_apart == {"returns": 2, "non_product": 3, "guest_lines": 3}
    [(line, reason)] = _one(ws, "SELECT line, reason FROM quarantine")
    assert (line, reason) == (11, "repeated_header")

    tx = ws.warehouse.execute(ws.table("transactions"))
    assert len(tx) == 11
    # The two identical lines of invoice 536365 are two lines of it, not a duplicate.
    assert sorted(tx.loc[tx.order_id == "536365", "line_no"]) == [1, 2, 3, 4]
    returns = tx[tx.is_return]
    assert sorted(returns.order_id) == ["C536379", "C536383"]
    assert (returns.quantity > 0).all() and (returns.amount < 0).all()
    assert sorted(tx.loc[tx.non_product, "product_id"]) == ["B", "D", "POST"]
    assert tx.customer_id.isna().sum() == 3
    # One customer id, however it was written: 17850.0, 17850 and " 17850 ".
    assert set(tx.customer_id.dropna()) == {"17850", "14527", "15311", "12583", "13047"}
    assert tx.loc[tx.product_id == "84029E", "product_name"].item().startswith("CAFÉ")

    # No master files: customers and products are inferred from the lines.
    assert _one(ws, "SELECT count(*), min(source_system) FROM customers") == [(5, "inferred")]
    products = dict(_one(ws, "SELECT product_id, name FROM products"))
    assert len(products) == 9 and products["85123A"] == "WHITE HANGING HEART T-LIGHT HOLDER"

    # Guests are sales but not customers: the customer table has the five customers only.
    assert ws.customers.build() == 5


def test_online_retail_ii_semicolons_and_iso_times(tmp_path):
    path = _write(tmp_path / "online_retail_II.csv", ONLINE_RETAIL_II)
    ws = _init_from(tmp_path, path)
    source = ws.settings.sources[0]
    assert source.delimiter == ";"
    assert dict(source.columns)["customer_id"] == "Customer ID"
    [result] = ws.ingest.run()
    assert (result.read, result.loaded, result.quarantined) == (6, 6, 0)
    assert result.kept_apart == {"returns": 1, "non_product": 1, "guest_lines": 1}
    assert _one(ws, "SELECT count(*) FROM customers") == [(3,)]
    assert _one(ws, "SELECT min(ts), max(ts) FROM transactions")[0][0].isoformat() == "2009-12-01T07:45:00"


def test_superstore_day_first_dates(tmp_path):
    path = _write(tmp_path / "superstore.csv", SUPERSTORE)
    ws = _init_from(tmp_path, path)
    source = ws.settings.sources[0]
    # 16/06/2016 and 18/10/2015 (ship dates) and 12/06 vs 11/10 decide: day first.
    assert source.formats["ts"].startswith("%d/%m/%Y")
    [result] = ws.ingest.run()
    assert (result.read, result.loaded, result.quarantined) == (5, 5, 0)
    tx = ws.warehouse.execute(ws.table("transactions").order_by(["order_id", "line_no"]))
    assert [str(t.date()) for t in tx.ts] == ["2016-06-12", "2016-11-08", "2016-11-08", "2015-10-11", "2015-10-11"]
    assert tx.amount.sum() == pytest.approx(261.96 + 731.94 + 14.62 + 957.5775 + 22.368)
    assert _one(ws, "SELECT count(*) FROM customers") == [(3,)]


def test_cli_init_from_writes_settings_that_load(tmp_path):
    path = _write(tmp_path / "sales.csv", ["customer_id,date,quantity,amount", "1,19970101,1,11.77",
                                           "1,19970101,1,11.77", "2,19970112,2,24.00", "1,19970215,1,9.99"])
    result = CliRunner().invoke(app, ["init", str(tmp_path / "shop"), "--from", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert any(a["status"] == "ready" for a in doc["analyses"])
    settings = tomllib.loads((tmp_path / "shop" / "crmine.toml").read_text())
    assert settings["sources"]["sales"]["table"] == "transactions"
    ws = crmine.open(tmp_path / "shop")
    [load] = ws.ingest.run()
    # Two identical lines are two purchases: nothing is dropped when the file has no order id.
    assert (load.read, load.loaded, load.quarantined) == (4, 4, 0)
    assert _one(ws, "SELECT count(DISTINCT order_id), max(line_no) FROM transactions") == [(3, 2)]
    again = CliRunner().invoke(app, ["init", str(tmp_path / "shop"), "--from", str(path)])
    assert again.exit_code != 0 and "exists already" in str(again.exception or again.output)
