"""Where a patient is, from what they type: a city's name or a 6-digit PIN code.

A compact table built into the code, so the directory's "near" search works
with no external geocoding service, no network and no API key. It is
APPROXIMATE on purpose:

- a city is one point, roughly its centre (or its main post office), to four
  decimal places (about 10 m, far finer than the city itself);
- a PIN code is placed by its first three digits, the postal sorting district,
  at the centre of the main city of that district. "411038" (Kothrud) lands on
  Pune's centre, about 6 km away; a district without a city in the table is
  not found. Three-digit districts cover a town and its countryside, so the
  error can reach a few tens of km at a district's edge.

That is good enough to sort doctors by distance and draw 5–100 km circles. A
precise location comes from the browser ("use my location"), not from here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float


# Major Indian cities: name -> (latitude, longitude) of the centre.
CITIES: dict[str, tuple[float, float]] = {
    # Metros
    "Mumbai": (19.0760, 72.8777),
    "Delhi": (28.6517, 77.2219),
    "New Delhi": (28.6139, 77.2090),
    "Bengaluru": (12.9716, 77.5946),
    "Kolkata": (22.5726, 88.3639),
    "Chennai": (13.0827, 80.2707),
    "Hyderabad": (17.3850, 78.4867),
    "Pune": (18.5204, 73.8567),
    "Ahmedabad": (23.0225, 72.5714),
    # Around the metros
    "Thane": (19.2183, 72.9781),
    "Navi Mumbai": (19.0330, 73.0297),
    "Gurugram": (28.4595, 77.0266),
    "Noida": (28.5355, 77.3910),
    "Ghaziabad": (28.6692, 77.4538),
    "Faridabad": (28.4089, 77.3178),
    # North
    "Jaipur": (26.9124, 75.7873),
    "Lucknow": (26.8467, 80.9462),
    "Chandigarh": (30.7333, 76.7794),
    "Kanpur": (26.4499, 80.3319),
    "Agra": (27.1767, 78.0081),
    "Varanasi": (25.3176, 82.9739),
    "Prayagraj": (25.4358, 81.8463),
    "Meerut": (28.9845, 77.7064),
    "Bareilly": (28.3670, 79.4304),
    "Gorakhpur": (26.7606, 83.3732),
    "Aligarh": (27.8974, 78.0880),
    "Dehradun": (30.3165, 78.0322),
    "Haridwar": (29.9457, 78.1642),
    "Shimla": (31.1048, 77.1734),
    "Srinagar": (34.0837, 74.7973),
    "Jammu": (32.7266, 74.8570),
    "Leh": (34.1526, 77.5771),
    "Amritsar": (31.6340, 74.8723),
    "Ludhiana": (30.9010, 75.8573),
    "Jalandhar": (31.3260, 75.5762),
    "Patiala": (30.3398, 76.3869),
    "Jodhpur": (26.2389, 73.0243),
    "Udaipur": (24.5854, 73.7125),
    "Kota": (25.2138, 75.8648),
    "Ajmer": (26.4499, 74.6399),
    "Bikaner": (28.0229, 73.3119),
    # West and centre
    "Surat": (21.1702, 72.8311),
    "Vadodara": (22.3072, 73.1812),
    "Rajkot": (22.3039, 70.8022),
    "Bhavnagar": (21.7645, 72.1519),
    "Jamnagar": (22.4707, 70.0577),
    "Gandhinagar": (23.2156, 72.6369),
    "Nashik": (19.9975, 73.7898),
    "Aurangabad": (19.8762, 75.3433),
    "Nagpur": (21.1458, 79.0882),
    "Solapur": (17.6599, 75.9064),
    "Kolhapur": (16.7050, 74.2433),
    "Jalgaon": (21.0077, 75.5626),
    "Panaji": (15.4909, 73.8278),
    "Bhopal": (23.2599, 77.4126),
    "Indore": (22.7196, 75.8577),
    "Gwalior": (26.2183, 78.1828),
    "Jabalpur": (23.1815, 79.9864),
    "Ujjain": (23.1765, 75.7885),
    "Raipur": (21.2514, 81.6296),
    # East and north-east
    "Patna": (25.5941, 85.1376),
    "Gaya": (24.7914, 85.0002),
    "Bhagalpur": (25.2425, 86.9842),
    "Muzaffarpur": (26.1209, 85.3647),
    "Ranchi": (23.3441, 85.3096),
    "Jamshedpur": (22.8046, 86.2029),
    "Dhanbad": (23.7957, 86.4304),
    "Bhubaneswar": (20.2961, 85.8245),
    "Cuttack": (20.4625, 85.8830),
    "Rourkela": (22.2604, 84.8536),
    "Siliguri": (26.7271, 88.3953),
    "Durgapur": (23.5204, 87.3119),
    "Guwahati": (26.1445, 91.7362),
    "Shillong": (25.5788, 91.8933),
    "Imphal": (24.8170, 93.9368),
    "Agartala": (23.8315, 91.2868),
    "Aizawl": (23.7271, 92.7176),
    "Kohima": (25.6751, 94.1086),
    "Itanagar": (27.0844, 93.6053),
    "Gangtok": (27.3389, 88.6065),
    "Port Blair": (11.6234, 92.7265),
    # South
    "Kochi": (9.9312, 76.2673),
    "Thiruvananthapuram": (8.5241, 76.9366),
    "Kozhikode": (11.2588, 75.7804),
    "Thrissur": (10.5276, 76.2144),
    "Kollam": (8.8932, 76.6141),
    "Coimbatore": (11.0168, 76.9558),
    "Madurai": (9.9252, 78.1198),
    "Tiruchirappalli": (10.7905, 78.7047),
    "Salem": (11.6643, 78.1460),
    "Tirunelveli": (8.7139, 77.7567),
    "Vellore": (12.9165, 79.1325),
    "Erode": (11.3410, 77.7172),
    "Puducherry": (11.9416, 79.8083),
    "Mysuru": (12.2958, 76.6394),
    "Mangaluru": (12.9141, 74.8560),
    "Hubballi": (15.3647, 75.1240),
    "Belagavi": (15.8497, 74.4977),
    "Kalaburagi": (17.3297, 76.8343),
    "Davanagere": (14.4644, 75.9218),
    "Visakhapatnam": (17.6868, 83.2185),
    "Vijayawada": (16.5062, 80.6480),
    "Guntur": (16.3067, 80.4365),
    "Nellore": (14.4426, 79.9865),
    "Tirupati": (13.6288, 79.4192),
    "Kurnool": (15.8281, 78.0373),
    "Warangal": (17.9689, 79.5941),
}

# Other names people type for the same places (old names, short forms, states).
ALIASES: dict[str, str] = {
    "Bangalore": "Bengaluru",
    "Bombay": "Mumbai",
    "Calcutta": "Kolkata",
    "Madras": "Chennai",
    "Poona": "Pune",
    "Gurgaon": "Gurugram",
    "Goa": "Panaji",
    "Panjim": "Panaji",
    "Pondicherry": "Puducherry",
    "Pondy": "Puducherry",
    "Trivandrum": "Thiruvananthapuram",
    "Cochin": "Kochi",
    "Ernakulam": "Kochi",
    "Calicut": "Kozhikode",
    "Trichur": "Thrissur",
    "Quilon": "Kollam",
    "Trichy": "Tiruchirappalli",
    "Tiruchi": "Tiruchirappalli",
    "Mysore": "Mysuru",
    "Mangalore": "Mangaluru",
    "Hubli": "Hubballi",
    "Belgaum": "Belagavi",
    "Gulbarga": "Kalaburagi",
    "Vizag": "Visakhapatnam",
    "Baroda": "Vadodara",
    "Allahabad": "Prayagraj",
    "Benares": "Varanasi",
    "Banaras": "Varanasi",
    "Kashi": "Varanasi",
    "Cawnpore": "Kanpur",
    "Simla": "Shimla",
    "Chhatrapati Sambhajinagar": "Aurangabad",
    "Sambhajinagar": "Aurangabad",
    "Delhi NCR": "New Delhi",
    "NCR": "New Delhi",
    "Secunderabad": "Hyderabad",
}

# The postal sorting district (first three PIN digits) -> the city it is placed at.
PIN_DISTRICTS: dict[str, str] = {
    "110": "Delhi",
    "121": "Faridabad",
    "122": "Gurugram",
    "141": "Ludhiana",
    "143": "Amritsar",
    "144": "Jalandhar",
    "147": "Patiala",
    "160": "Chandigarh",
    "171": "Shimla",
    "180": "Jammu",
    "181": "Jammu",
    "190": "Srinagar",
    "194": "Leh",
    "201": "Noida",  # Ghaziabad shares it
    "202": "Aligarh",
    "208": "Kanpur",
    "209": "Kanpur",
    "211": "Prayagraj",
    "221": "Varanasi",
    "226": "Lucknow",
    "227": "Lucknow",
    "243": "Bareilly",
    "248": "Dehradun",
    "249": "Haridwar",
    "250": "Meerut",
    "273": "Gorakhpur",
    "282": "Agra",
    "283": "Agra",
    "302": "Jaipur",
    "303": "Jaipur",
    "305": "Ajmer",
    "313": "Udaipur",
    "324": "Kota",
    "334": "Bikaner",
    "342": "Jodhpur",
    "360": "Rajkot",
    "361": "Jamnagar",
    "364": "Bhavnagar",
    "380": "Ahmedabad",
    "382": "Ahmedabad",  # Gandhinagar shares it
    "390": "Vadodara",
    "391": "Vadodara",
    "394": "Surat",
    "395": "Surat",
    "400": "Mumbai",  # Thane and Navi Mumbai share it
    "401": "Thane",
    "403": "Panaji",
    "410": "Navi Mumbai",
    "411": "Pune",
    "412": "Pune",
    "413": "Solapur",
    "416": "Kolhapur",
    "421": "Thane",
    "422": "Nashik",
    "423": "Nashik",
    "425": "Jalgaon",
    "431": "Aurangabad",
    "440": "Nagpur",
    "441": "Nagpur",
    "452": "Indore",
    "453": "Indore",
    "456": "Ujjain",
    "462": "Bhopal",
    "474": "Gwalior",
    "482": "Jabalpur",
    "492": "Raipur",
    "493": "Raipur",
    "500": "Hyderabad",
    "501": "Hyderabad",
    "506": "Warangal",
    "517": "Tirupati",
    "518": "Kurnool",
    "520": "Vijayawada",
    "521": "Vijayawada",
    "522": "Guntur",
    "524": "Nellore",
    "530": "Visakhapatnam",
    "531": "Visakhapatnam",
    "560": "Bengaluru",
    "562": "Bengaluru",
    "570": "Mysuru",
    "571": "Mysuru",
    "575": "Mangaluru",
    "577": "Davanagere",
    "580": "Hubballi",
    "585": "Kalaburagi",
    "590": "Belagavi",
    "600": "Chennai",
    "601": "Chennai",
    "602": "Chennai",
    "603": "Chennai",
    "605": "Puducherry",
    "620": "Tiruchirappalli",
    "621": "Tiruchirappalli",
    "625": "Madurai",
    "627": "Tirunelveli",
    "632": "Vellore",
    "636": "Salem",
    "638": "Erode",
    "641": "Coimbatore",  # Tiruppur shares it
    "642": "Coimbatore",
    "673": "Kozhikode",
    "680": "Thrissur",
    "682": "Kochi",
    "683": "Kochi",
    "691": "Kollam",
    "695": "Thiruvananthapuram",
    "700": "Kolkata",
    "711": "Kolkata",  # Howrah
    "713": "Durgapur",  # Asansol shares it
    "734": "Siliguri",
    "737": "Gangtok",
    "744": "Port Blair",
    "751": "Bhubaneswar",
    "753": "Cuttack",
    "754": "Cuttack",
    "769": "Rourkela",
    "781": "Guwahati",
    "791": "Itanagar",
    "793": "Shillong",
    "795": "Imphal",
    "796": "Aizawl",
    "797": "Kohima",
    "799": "Agartala",
    "800": "Patna",
    "801": "Patna",
    "812": "Bhagalpur",
    "823": "Gaya",
    "826": "Dhanbad",
    "831": "Jamshedpur",
    "834": "Ranchi",
    "835": "Ranchi",
    "842": "Muzaffarpur",
}

_PIN = re.compile(r"^[1-9]\d{5}$")


def _key(text: str) -> str:
    """Case, accents, dots, hyphens and repeated spaces do not matter."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split())


_BY_KEY: dict[str, str] = {_key(name): name for name in CITIES} | {_key(alias): city for alias, city in ALIASES.items()}


def city_names() -> list[str]:
    """Every city in the table, for suggestions beside a text box."""
    return sorted(CITIES)


def find_city(text: str) -> Place | None:
    # "Pune, Maharashtra" is Pune.
    name = _BY_KEY.get(_key(text)) or _BY_KEY.get(_key(text.split(",")[0]))
    if name is None:
        return None
    latitude, longitude = CITIES[name]
    return Place(name, latitude, longitude)


def find_pin(text: str) -> Place | None:
    pin = re.sub(r"\s+", "", text)
    if not _PIN.match(pin):
        return None
    city = PIN_DISTRICTS.get(pin[:3])
    if city is None:
        return None
    latitude, longitude = CITIES[city]
    return Place(f"{pin} ({city})", latitude, longitude)


def locate(text: str) -> Place | None:
    """A city name (or another name for it) or a 6-digit PIN code, else None."""
    text = (text or "").strip()
    if not text:
        return None
    return find_pin(text) if any(ch.isdigit() for ch in text) else find_city(text)
