"""Word lists for the simulator: names, places, products and feedback phrases (all invented or common).

No value holds a comma, a double quote or a backslash, so files can be written without quoting.
"""

from __future__ import annotations

# fmt: off
FIRST_F = [
    "Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophia", "Grace", "Lily", "Mia", "Ella",
    "Isabella", "Poppy", "Jessica", "Charlotte", "Evie", "Sophie", "Freya", "Ruby", "Chloe",
    "Daisy", "Alice", "Sienna", "Phoebe", "Florence", "Matilda", "Holly", "Scarlett", "Lucy",
    "Harper", "Erin", "Emma", "Hannah", "Rosie", "Eva", "Layla", "Zara", "Molly", "Imogen",
    "Elizabeth", "Maya", "Sarah", "Laura", "Rebecca", "Katie", "Amy", "Rachel", "Claire", "Helen",
    "Nicola", "Joanne", "Karen", "Susan", "Julie", "Lisa", "Michelle", "Angela", "Tracey",
    "Deborah", "Amanda", "Louise", "Victoria", "Natalie", "Gemma", "Kirsty", "Hayley", "Jennifer",
    "Caroline", "Joanna", "Samantha", "Fiona", "Margaret", "Patricia", "Linda", "Barbara", "Janet",
    "Christine", "Carol", "Pauline", "Jean", "Anne", "Mary", "Sandra", "Wendy", "Priya", "Aisha",
    "Fatima", "Anya", "Niamh", "Siobhan", "Megan", "Bethan", "Catrin", "Aoife", "Leah", "Jasmine",
    "Naomi", "Abigail",
]
FIRST_M = [
    "Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Arthur", "Muhammad", "Oscar", "Charlie",
    "Jacob", "Thomas", "Henry", "William", "Alfie", "Joshua", "Freddie", "Archie", "James", "Ethan",
    "Isaac", "Alexander", "Joseph", "Edward", "Samuel", "Max", "Daniel", "Logan", "Lucas", "Mason",
    "Theo", "Benjamin", "Dylan", "Adam", "Jake", "Ryan", "Luke", "Matthew", "Liam", "Lewis",
    "Callum", "Connor", "Kieran", "David", "John", "Paul", "Mark", "Andrew", "Richard", "Michael",
    "Peter", "Stephen", "Christopher", "Robert", "Ian", "Simon", "Gary", "Kevin", "Neil", "Martin",
    "Steven", "Darren", "Craig", "Lee", "Stuart", "Graham", "Colin", "Keith", "Brian", "Anthony",
    "Philip", "Nicholas", "Jonathan", "Timothy", "Patrick", "Sean", "Gareth", "Rhys", "Owen",
    "Dafydd", "Ewan", "Fraser", "Hamish", "Angus", "Rajesh", "Amit", "Imran", "Tariq", "Hassan",
    "Ali", "Kwame", "Tomasz", "Piotr", "Marek", "Stefan", "Nathan", "Aaron", "Jordan",
]
# Ordered roughly by frequency in Britain; drawn with a Zipf-like weight so common ones repeat.
SURNAMES = [
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes",
    "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin",
    "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison",
    "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price",
    "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey",
    "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox", "Richards", "Khan", "Marshall",
    "Anderson", "Simpson", "Ellis", "Adams", "Singh", "Begum", "Wilkinson", "Foster", "Chapman",
    "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt", "Hussain", "Campbell", "Matthews",
    "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd", "Butler", "Russell", "Barker",
    "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey", "Graham", "Pearson", "Ahmed",
    "Fletcher", "Walsh", "Kaur", "Gibson", "Howard", "Andrews", "Stewart", "Elliott", "Reynolds",
    "Saunders", "Payne", "Fox", "Ford", "Pearce", "Day", "Brooks", "West", "Lawrence", "Cole",
    "Atkinson", "Bradley", "Spencer", "Gill", "Dawson", "Ball", "Burton", "O'Brien", "Watts",
    "Rose", "Booth", "Perry", "Ryan", "Grant", "Wells", "Armstrong", "Francis", "Rees", "Hayes",
    "Hart", "Hudson", "Newman", "Barrett", "Webster", "Hunter", "Gregory", "Carr", "Lowe", "Page",
    "Marsh", "Riley", "Dunn", "Woods", "Parsons", "Berry", "Stone", "Reid", "Holland", "Hawkins",
    "Harding", "Porter", "Robertson", "Newton", "Oliver", "Reed", "Kennedy", "Williamson", "Bird",
    "Gardner", "Shah", "Dean", "Lane", "Cooke", "Bates", "Henderson", "Parry", "Burgess", "Bishop",
    "Walton", "Burns", "Nicholson", "Shepherd", "Ross", "Cross", "Long", "Freeman", "Warren",
    "Nicholls", "Hamilton", "Byrne", "Sutton", "McDonald", "Yates", "Hodgson", "Robson", "Curtis",
    "Hopkins", "O'Connor", "Harper", "Coleman", "Watkins", "Moss", "McCarthy", "Chambers",
    "O'Neill", "Griffin", "Sharp", "Hardy", "Wheeler", "Potter", "Osborne", "Johnston", "Gordon",
    "Doyle", "Wallace", "George", "Jordan", "Hutchinson", "Rowe", "Burke", "May", "Pritchard",
    "Gilbert", "Willis", "Higgins", "Read", "Miles", "Stevenson", "Stephenson", "Hammond", "Arnold",
    "Buckley", "Walters", "Hewitt", "Barber", "Nelson", "Slater", "Austin", "Sullivan", "Whitehead",
    "Mann", "Frost", "Lambert", "Stephens", "Blake", "Akhtar", "Lynch", "Goodwin", "Barton",
    "Woodward", "Thomson", "Cunningham", "Quinn", "Barnett", "Baxter", "Bibi", "Clayton", "Nash",
    "Greenwood", "Jennings", "Holt", "Kemp", "Poole", "Gallagher", "Bond", "Stokes", "Tucker",
    "Davidson", "Fowler", "Heath", "Norman", "Middleton", "Lawson", "Banks", "French", "Stanley",
    "Jarvis", "Gibbs", "Ferguson", "Hayward", "Carroll", "Douglas", "Dickinson", "Todd", "Barlow",
    "Peters", "Lucas", "Knowles", "Hartley",
]
# Short forms some people give in one system and not the other.
NICKNAMES = {
    "Elizabeth": "Liz", "Jessica": "Jess", "Victoria": "Vicky", "Samantha": "Sam",
    "Jennifer": "Jen", "Natalie": "Nat", "Charlotte": "Lottie", "Abigail": "Abby",
    "Isabella": "Bella", "Margaret": "Maggie", "Rebecca": "Becky", "Katie": "Kate",
    "Deborah": "Debbie", "Patricia": "Trish", "Christine": "Chris", "Amanda": "Mandy",
    "Susan": "Sue", "Olivia": "Liv", "Florence": "Flo", "Matilda": "Tilly", "Alexander": "Alex",
    "Benjamin": "Ben", "Christopher": "Chris", "Daniel": "Dan", "Edward": "Ed", "James": "Jim",
    "Jonathan": "Jon", "Joseph": "Joe", "Joshua": "Josh", "Matthew": "Matt", "Michael": "Mike",
    "Nicholas": "Nick", "Robert": "Bob", "Samuel": "Sam", "Stephen": "Steve", "Thomas": "Tom",
    "Timothy": "Tim", "William": "Will", "Anthony": "Tony", "Richard": "Rich", "Andrew": "Andy",
    "Peter": "Pete", "Philip": "Phil", "Patrick": "Pat", "Frederick": "Fred", "Oliver": "Ollie",
    "Henry": "Harry", "Archie": "Archibald", "Theo": "Theodore", "Alfie": "Alfred",
}
STREETS = [
    "High", "Church", "Station", "Victoria", "Green", "Manor", "Park", "Queens", "Kings", "New",
    "Mill", "School", "Grange", "Chapel", "Albert", "Windsor", "York", "Main", "North", "South",
    "West", "East", "London", "Springfield", "Highfield", "Alexandra", "Orchard", "Mount",
    "Stanley", "Richmond", "Cedar", "Willow", "Oak", "Beech", "Elm", "Ash", "Maple", "Meadow",
    "Brook", "Hill", "Broad", "Bridge", "Castle", "Abbey", "Priory", "Market", "Water", "Bank",
    "Forest", "Heath", "Moor", "Valley", "Riverside", "Hawthorn", "Rose", "Lime", "Clarence",
    "Grosvenor", "Cambridge", "Oxford", "Trinity", "Cherry", "Holly", "Nelson", "Wellington",
    "Marlborough", "Kingsway", "Chester", "Lancaster", "Devonshire", "Cromwell", "Beaconsfield",
    "Belmont", "Fairview", "Woodland", "Primrose",
]
STREET_TYPES = (
    "Road", "Street", "Lane", "Avenue", "Close", "Drive", "Way", "Gardens", "Crescent", "Place",
)
STREET_ABBREV = {
    "Road": "Rd", "Street": "St", "Lane": "Ln", "Avenue": "Ave", "Close": "Cl", "Drive": "Dr",
    "Way": "Way", "Gardens": "Gdns", "Crescent": "Cres", "Place": "Pl",
}
# (city, region, postcode area, relative population)
CITIES = (
    ("London", "London", "N", 18.0), ("London", "London", "SE", 10.0),
    ("London", "London", "E", 9.0), ("Birmingham", "West Midlands", "B", 6.0),
    ("Manchester", "North West", "M", 5.0), ("Leeds", "Yorkshire and the Humber", "LS", 4.5),
    ("Glasgow", "Scotland", "G", 4.0), ("Liverpool", "North West", "L", 3.5),
    ("Bristol", "South West", "BS", 3.5), ("Sheffield", "Yorkshire and the Humber", "S", 3.5),
    ("Edinburgh", "Scotland", "EH", 3.0), ("Cardiff", "Wales", "CF", 2.8),
    ("Leicester", "East Midlands", "LE", 2.8), ("Nottingham", "East Midlands", "NG", 2.7),
    ("Newcastle upon Tyne", "North East", "NE", 2.6),
    ("Bradford", "Yorkshire and the Humber", "BD", 2.4), ("Coventry", "West Midlands", "CV", 2.2),
    ("Southampton", "South East", "SO", 2.0), ("Portsmouth", "South East", "PO", 1.8),
    ("Plymouth", "South West", "PL", 1.6), ("Reading", "South East", "RG", 1.6),
    ("Derby", "East Midlands", "DE", 1.5), ("Stoke-on-Trent", "West Midlands", "ST", 1.5),
    ("Wolverhampton", "West Midlands", "WV", 1.5), ("Norwich", "East of England", "NR", 1.4),
    ("Swansea", "Wales", "SA", 1.3), ("Brighton", "South East", "BN", 1.5),
    ("Aberdeen", "Scotland", "AB", 1.2), ("Belfast", "Northern Ireland", "BT", 2.0),
    ("Cambridge", "East of England", "CB", 1.2), ("Oxford", "South East", "OX", 1.2),
    ("York", "Yorkshire and the Humber", "YO", 1.1), ("Exeter", "South West", "EX", 1.0),
    ("Milton Keynes", "South East", "MK", 1.3), ("Peterborough", "East of England", "PE", 1.1),
    ("Luton", "East of England", "LU", 1.1), ("Bath", "South West", "BA", 0.8),
    ("Dundee", "Scotland", "DD", 0.9), ("Preston", "North West", "PR", 1.0),
    ("Sunderland", "North East", "SR", 1.1), ("Hull", "Yorkshire and the Humber", "HU", 1.2),
    ("Ipswich", "East of England", "IP", 0.9), ("Chelmsford", "East of England", "CM", 1.0),
    ("Gloucester", "South West", "GL", 0.9), ("Lincoln", "East Midlands", "LN", 0.8),
)
# A second spelling some web users type for a few towns.
CITY_VARIANTS = {
    "Newcastle upon Tyne": "Newcastle", "Stoke-on-Trent": "Stoke", "Hull": "Kingston upon Hull",
}
EMAIL_DOMAINS = (
    "gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "icloud.com", "btinternet.com",
    "live.co.uk", "aol.com", "sky.com", "mail.com",
)
EMAIL_DOMAIN_WEIGHTS = (0.34, 0.16, 0.13, 0.09, 0.08, 0.06, 0.05, 0.03, 0.03, 0.03)
# Typing slips seen in real sign-up forms.
DOMAIN_TYPOS = {
    "gmail.com": "gmial.com", "hotmail.co.uk": "hotmial.co.uk", "outlook.com": "outlok.com",
    "yahoo.co.uk": "yaho.co.uk", "icloud.com": "iclod.com", "btinternet.com": "btinternet.co",
    "live.co.uk": "live.co", "aol.com": "aol.co", "sky.com": "sky.co", "mail.com": "mail.co",
}
# Ordered by typical income: the simulator picks by income rank with noise.
OCCUPATIONS = (
    "student", "unemployed", "retail assistant", "care worker", "chef", "driver", "administrator",
    "electrician", "nurse", "teacher", "designer", "civil servant", "sales executive", "accountant",
    "engineer", "software developer", "manager", "pharmacist", "lawyer", "doctor", "director",
)
EDUCATION = ("GCSE", "A-level", "vocational", "bachelor", "master", "doctorate")
# category -> (code, [(subcategory, min price, max price, products)], brands, nouns)
CATEGORIES = {
    "women": (
        "WOM",
        [
            ("tops", 8, 45, 8), ("dresses", 20, 140, 8), ("shoes", 25, 160, 7),
            ("coats", 45, 260, 6), ("accessories", 5, 60, 6),
        ],
        ("Maison Lark", "Verity", "Northwind", "Ellery", "Saltmarsh"),
        {
            "tops": "Top", "dresses": "Dress", "shoes": "Shoes", "coats": "Coat",
            "accessories": "Scarf",
        },
    ),
    "men": (
        "MEN",
        [
            ("shirts", 12, 70, 8), ("trousers", 20, 90, 7), ("shoes", 30, 170, 7),
            ("jackets", 50, 280, 6), ("accessories", 6, 55, 5),
        ],
        ("Hawthorne", "Northwind", "Fellside", "Kestrel & Co", "Redmire"),
        {
            "shirts": "Shirt", "trousers": "Chinos", "shoes": "Brogues", "jackets": "Jacket",
            "accessories": "Belt",
        },
    ),
    "kids": (
        "KID",
        [
            ("babywear", 5, 30, 7), ("schoolwear", 6, 35, 7), ("toys", 4, 80, 8),
            ("kids shoes", 12, 55, 6), ("nursery", 15, 220, 5),
        ],
        ("Little Wren", "Puddle", "Acorn Kids", "Tumbletop"),
        {
            "babywear": "Babygrow", "schoolwear": "School Jumper", "toys": "Toy Set",
            "kids shoes": "Trainers", "nursery": "Cot Bundle",
        },
    ),
    "home": (
        "HOM",
        [
            ("kitchen", 6, 150, 8), ("bedding", 15, 180, 7), ("decor", 5, 90, 7),
            ("furniture", 60, 900, 6), ("garden", 8, 200, 5),
        ],
        ("Hearth", "Oakmere", "Linden Home", "Stillwater", "Bramble"),
        {
            "kitchen": "Pan Set", "bedding": "Duvet", "decor": "Vase", "furniture": "Armchair",
            "garden": "Planter",
        },
    ),
    "beauty": (
        "BEA",
        [
            ("skincare", 6, 75, 8), ("makeup", 4, 45, 8), ("fragrance", 18, 130, 7),
            ("haircare", 4, 40, 6), ("grooming", 5, 90, 5),
        ],
        ("Lumen", "Petal & Stone", "Aurelle", "Glasshouse"),
        {
            "skincare": "Serum", "makeup": "Lipstick", "fragrance": "Eau de Parfum",
            "haircare": "Shampoo", "grooming": "Trimmer",
        },
    ),
    "electronics": (
        "ELE",
        [
            ("accessories", 8, 50, 8), ("audio", 20, 350, 7), ("phones", 120, 1100, 5),
            ("computing", 200, 1600, 5), ("tv", 250, 1800, 5), ("small appliances", 20, 250, 6),
        ],
        ("Voltra", "Quill", "Sonance", "Brightline", "Kinetic"),
        {
            "accessories": "Charger", "audio": "Headphones", "phones": "Smartphone",
            "computing": "Laptop", "tv": "Smart TV", "small appliances": "Air Fryer",
        },
    ),
}
PRODUCT_ADJECTIVES = (
    "Classic", "Essential", "Premium", "Everyday", "Signature", "Studio", "Heritage", "Lite", "Pro",
    "Organic",
)
SEASON_NAMES = {
    1: "New Year", 2: "Winter", 3: "Spring", 4: "Spring", 5: "May", 6: "Summer", 7: "Summer",
    8: "Late Summer", 9: "Autumn", 10: "Autumn", 11: "Black Friday", 12: "Christmas",
}
CAMPAIGN_OFFERS = (
    "10% off next order", "free delivery", "GBP 10 voucher", "double loyalty points",
    "20% off one item", "early access to sale", "free gift with purchase",
)
CAMPAIGN_THEMES = (
    "Welcome back", "Spring refresh", "Summer savings", "Back to school", "Autumn edit",
    "Christmas gifting", "New Year reset", "Loyalty thank you", "Win-back", "Weekend flash",
)
# Feedback phrases by sentiment level: 0 very negative, 1 negative, 2 neutral, 3 positive, 4 very
# positive; each level holds (openers, bodies with an optional {cat}, closers).
FEEDBACK = {
    0: (
        (
            "Absolutely terrible experience.", "Awful service.", "Never again.",
            "Very angry customer here.",
        ),
        (
            "My {cat} order arrived broken and nobody helped",
            "I waited weeks for a refund and was ignored", "the agent was rude and hung up on me",
            "the {cat} quality is dreadful and the item fell apart",
        ),
        (
            "I am closing my account.", "Worst shop I have used.", "Completely unacceptable.",
            "Shocking.",
        ),
    ),
    1: (
        ("Disappointed.", "Not great.", "A bit annoyed.", "Unhappy with this."),
        (
            "delivery was late and the {cat} item was smaller than described",
            "the return took too long", "I had to call twice before anyone fixed the problem",
            "prices on {cat} went up again",
        ),
        ("Please do better.", "Expected more.", "Might shop elsewhere.", "Not impressed."),
    ),
    2: (
        ("Order received.", "Just a note.", "Feedback as requested.", "Update on my order."),
        (
            "the {cat} item arrived on the expected day", "I bought a few {cat} things this month",
            "the store was open and the queue was normal", "the parcel came in two deliveries",
        ),
        ("Nothing else to add.", "That is all.", "It was okay.", "Average overall."),
    ),
    3: (
        ("Good experience.", "Pleased with this.", "Nice shop.", "Happy customer."),
        (
            "the {cat} range is good value", "delivery was quick and the item fits well",
            "staff were helpful when I asked about {cat}", "the return was easy",
        ),
        ("Will order again.", "Thanks.", "Recommended.", "Good job."),
    ),
    4: (
        ("Fantastic service!", "Absolutely love it!", "Brilliant!", "Excellent experience!"),
        (
            "the agent was wonderful and sorted everything in minutes",
            "the new {cat} collection is amazing",
            "delivery was super fast and the quality is superb",
            "best {cat} I have bought in years",
        ),
        ("Thank you so much!", "Highly recommend!", "Five stars!", "Delighted!"),
    ),
}
# fmt: on
