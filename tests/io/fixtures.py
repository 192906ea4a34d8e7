"""A small company whose every bad row was placed by hand, with the reason it must be quarantined."""

CUSTOMERS = """
cust_no,name,email,birth_date,income,signup_date
C1,Ann Lee,ann@example.com,03/02/1980,50000,2020-01-05
C2,Bob Stone,bob@example.com,11/07/1975,61000,2020-02-01
C3,Cy Twombly,cy@example.com,1970-01-01,abc,2021-03-03
,Dee Nobody,dee@example.com,01/01/1990,1000,2021-01-01
C4,Eve Dalton,eve@example.com,05/05/1985,-5,2021-01-01
C5,Finn Ray,finn@example.com,06/06/1986,40000,2022-06-01
C2,Bob Again,bob2@example.com,11/07/1975,61000,2020-02-01
"""
# bad: line 4 bad_type birth_date (not dd/mm/YYYY); line 5 missing_required customer_id;
#      line 6 out_of_range income; line 8 duplicate_key customer_id.  Good: C1, C2, C5.

PRODUCTS = """
sku,title,category,list_price,unit_cost
P1,Blouse,women,40,18
P2,Kettle,home,25,11
"""

TRANSACTIONS = """
order_id,line_no,customer,ts,sku,qty,unit_price,amount,channel
O1,1,C1,2024-01-02 10:00:00,P1,1,40,40,web
O1,2,C1,2024-01-02 10:00:00,P2,2,25,50,web
O2,1,C2,2024-01-03 11:00:00,P1,1,40,40,store
O3,1,C9,2024-01-04 12:00:00,P1,1,40,40,store
O4,1,C5,2024-01-05 13:00:00,P7,1,40,40,store
O5,1,C5,2024-13-45 13:00:00,P1,1,40,40,store
O6,1,C5,2024-02-01 09:00:00,P2,1,25,,catalog
O6,1,C5,2024-02-01 09:00:00,P2,1,25,25,catalog
O7,1,C1,2024-02-02 09:00:00,P2,1,25,1000000000,web
O8,1,C2,2024-02-03 09:00:00,P2,1,25,25,web,extra
O9,1,C2,2024-02-04 09:00:00,P2,2,25,50,phone
O9,1,C2,2024-02-04 09:00:00,P2,2,25,50,phone
"""
# bad: 5 unknown_reference customer; 6 unknown_reference product; 7 bad_type ts; 8 missing_required
# amount; 10 out_of_range amount; 11 malformed_row. Line 9 repeats the key of line 8, but line 8 is
# bad, so line 9 is the valid row of that key and loads. Line 13 repeats line 12:
# duplicate_key. Good: lines 2, 3, 4, 9, 12 -> 5 rows.

TOML = """
[sources.crm]
table = "customers"
path = "sources/customers.csv"
source_system = "crm"
[sources.crm.columns]
customer_id = "cust_no"
[sources.crm.formats]
birth_date = "%d/%m/%Y"

[sources.catalogue]
table = "products"
path = "sources/products.csv"
[sources.catalogue.columns]
product_id = "sku"
name = "title"

[sources.orders]
table = "transactions"
path = "sources/orders.csv"
[sources.orders.columns]
customer_id = "customer"
product_id = "sku"
quantity = "qty"
[sources.orders.derive]
gross = "quantity * unit_price"
"""

FILES = {"customers.csv": CUSTOMERS, "products.csv": PRODUCTS, "orders.csv": TRANSACTIONS}

EXPECTED_QUARANTINE = {
    ("crm", 4, "bad_type", "birth_date"),
    ("crm", 5, "missing_required", "customer_id"),
    ("crm", 6, "out_of_range", "income"),
    ("crm", 8, "duplicate_key", "customer_id"),
    ("orders", 5, "unknown_reference", "customer_id"),
    ("orders", 6, "unknown_reference", "product_id"),
    ("orders", 7, "bad_type", "ts"),
    ("orders", 8, "missing_required", "amount"),
    ("orders", 10, "out_of_range", "amount"),
    ("orders", 11, "malformed_row", None),
    ("orders", 13, "duplicate_key", "order_id,line_no"),
}
