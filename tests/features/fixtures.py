"""A tiny company whose customer table was worked out by hand (as of 2024-02-15)."""

TOML = """
[sources.people]
table = "customers"
path = "sources/people.csv"
[sources.catalogue]
table = "products"
path = "sources/products.csv"
[sources.orders]
table = "transactions"
path = "sources/orders.csv"
[sources.camps]
table = "campaigns"
path = "sources/campaigns.csv"
[sources.contacts]
table = "campaign_contacts"
path = "sources/contacts.csv"
[sources.responses]
table = "campaign_responses"
path = "sources/responses.csv"
[sources.service]
table = "interactions"
path = "sources/service.csv"
[analysis.derived]
spend_per_order = "spend / orders"
[analysis.behaviours]
womenswear_web = "category == 'women' and channel == 'web'"
home = "category == 'home'"
"""

FILES = {
    "people.csv": """
        customer_id,gender,birth_date,income,region,signup_date
        C1,F,1984-02-15,50000,North,2023-12-01
        C2,M,1990-06-01,30000,South,2024-01-05
        C3,F,1970-01-01,70000,North,2024-02-01
        C4,M,1980-01-01,10000,East,2024-03-01
    """,
    "products.csv": """
        product_id,category,unit_cost
        P1,women,10
        P2,home,5
    """,
    "orders.csv": """
        order_id,line_no,customer_id,ts,product_id,quantity,amount,discount,channel,is_return
        O1,1,C1,2024-01-01 10:00:00,P1,1,40,0,web,0
        O2,1,C1,2024-01-11 12:00:00,P2,1,20,5,store,0
        O3,1,C1,2024-02-10 09:00:00,P1,2,60,0,web,0
        R1,1,C1,2024-02-12 09:00:00,P1,1,-20,0,web,1
        O4,1,C2,2024-01-05 15:00:00,P2,1,30,0,store,0
        O5,1,C2,2024-02-20 15:00:00,P2,1,99,0,store,0
    """,
    "campaigns.csv": """
        campaign_id,name
        K1,winter
    """,
    "contacts.csv": """
        campaign_id,customer_id,ts,group
        K1,C1,2024-01-20,treatment
        K1,C2,2024-01-20,control
    """,
    "responses.csv": """
        campaign_id,customer_id,response_type,ts
        K1,C1,purchase,2024-01-25
        K1,C2,purchase,2024-01-26
    """,
    "service.csv": """
        interaction_id,customer_id,ts,resolved,satisfaction
        I1,C1,2024-01-15,true,4
        I2,C1,2024-02-01,false,2
        I3,C1,2024-03-01,true,5
    """,
}

AS_OF = "2024-02-15"

# Worked out by hand from the files above; events after 2024-02-15 (O5, I3) and C4 (signed up
# later) do not count.
EXPECTED = {
    "C1": dict(orders=3, spend=100.0, avg_order_value=40.0, recency_days=5.0, tenure_days=76.0,
               frequency=2, recency=40 / 7, T=45 / 7, ipt_mean_days=20.0, ipt_cv=0.5,
               discount_rate=5 / 125, return_rate=0.25, share_cat_women=100 / 120, share_cat_home=20 / 120,
               share_channel_web=100 / 120, share_channel_store=20 / 120, spend_recent=100.0,
               spend_previous=0.0, spend_trend=1.0, campaign_contacts=1, campaign_responses=1,
               response_rate=1.0, service_contacts=2, resolution_rate=0.5, mean_satisfaction=3.0,
               age=40.0, spend_per_order=100 / 3),
    "C2": dict(orders=1, spend=30.0, avg_order_value=30.0, recency_days=41.0, tenure_days=41.0,
               frequency=0, share_cat_home=1.0, campaign_contacts=0, campaign_responses=0,
               service_contacts=0),
    "C3": dict(orders=0, spend=0.0, tenure_days=14.0, campaign_contacts=0, service_contacts=0),
}
