"""Every word a statement prints, in Finnish, Swedish and English, and the
locale's way of writing numbers and dates.

One place for all of it, so a translation is checked against the others
(tests/charging/test_statements.py: every key in every language, the
same placeholders) instead of being scattered through the renderers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from core.catalogue import LANGS, Catalogue, Texts, check_lang

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "check_lang",
    "day",
    "day_span",
    "keys",
    "local_time",
    "money",
    "month_name",
    "number",
    "percent",
    "t",
    "translations",
]

DEFAULT_LANG = "fi"  # the example sites' own language; registry ``name`` is Finnish

_NBSP = "\u00a0"  # Latin-1, so the PDF core fonts draw it

# key -> (fi, sv, en). Placeholders are str.format fields.
_M: dict[str, Texts] = {
    # title block
    "title": ("Käyttöveloitus", "Användningsbaserad debitering", "Usage-based charge"),
    "title.credit": ("Hyvityslasku", "Kreditnota", "Credit note"),
    "site_title": (
        "Käyttöveloitukset, {site}, {month}",
        "Användningsbaserade debiteringar, {site}, {month}",
        "Usage-based charges, {site}, {month}",
    ),
    "site_intro": (
        "Koko kiinteistön yhteenveto taloushallinnolle. Kunkin viraston laskelma "
        "seuraa omalla sivullaan.",
        "Sammanfattning av hela fastigheten för ekonomiförvaltningen. Varje "
        "myndighets specifikation följer på egen sida.",
        "Site summary for finance. Each agency's statement follows on its own page.",
    ),
    "banner.draft": (
        "LUONNOS - EI LASKU",
        "UTKAST - INTE EN FAKTURA",
        "DRAFT - NOT AN INVOICE",
    ),
    "banner.provisional": (
        "ALUSTAVA LUONNOS, KUUKAUSI KESKEN - EI LASKU",
        "PRELIMINÄRT UTKAST, MÅNADEN PÅGÅR - INTE EN FAKTURA",
        "PROVISIONAL DRAFT, MONTH IN PROGRESS - NOT AN INVOICE",
    ),
    "banner.credit": (
        "HYVITYSLASKU - hyvittää laskun {number}",
        "KREDITNOTA - krediterar faktura {number}",
        "CREDIT NOTE - credits statement {number}",
    ),
    "banner.correction": (
        "Korjattu lasku, korvaa laskun {number}",
        "Rättad faktura, ersätter faktura {number}",
        "Corrected statement, replaces statement {number}",
    ),
    "draft.explain": (
        "Luvut voivat vielä muuttua. Laskun numero ja viite annetaan, kun kuukausi hyväksytään.",
        "Siffrorna kan ännu ändras. Fakturanummer och referens ges när månaden godkänns.",
        "The figures may still change. The number and reference are given when the "
        "month is approved.",
    ),
    "provisional.explain": (
        "Kuukausi on kesken: luvut ovat suhteessa kuluneeseen aukioloaikaan, eivät "
        "koko kuukauden kustannus.",
        "Månaden pågår: siffrorna är i proportion till den förflutna öppettiden, inte "
        "hela månadens kostnad.",
        "The month is in progress: the figures are pro rata to the elapsed opening "
        "time, not the whole month's cost.",
    ),
    # header fields
    "recipient": ("Vastaanottaja", "Mottagare", "Recipient"),
    "agency": ("Virasto", "Myndighet", "Agency"),
    "business_id": ("Y-tunnus", "FO-nummer", "Business ID"),
    "cost_centre": ("Kustannuspaikka", "Kostnadsställe", "Cost centre"),
    "number": ("Laskun numero", "Fakturanummer", "Statement number"),
    "issue_date": ("Laskun päivä", "Fakturadatum", "Issue date"),
    "due_date": ("Eräpäivä", "Förfallodag", "Due date"),
    "reference": ("Viitenumero", "Referensnummer", "Payment reference"),
    "state": ("Tila", "Status", "State"),
    "period": ("Jakso", "Period", "Period"),
    "site": ("Kiinteistö", "Fastighet", "Site"),
    "run": ("Laskenta", "Beräkning", "Charge run"),
    "revision": ("versio {n}", "version {n}", "revision {n}"),
    "approved_by": ("Hyväksynyt", "Godkänd av", "Approved by"),
    "credits": ("Hyvitettävä lasku", "Krediterad faktura", "Credits statement"),
    "replaces": ("Korvaa laskun", "Ersätter faktura", "Replaces statement"),
    "amount_due": ("Maksettava", "Att betala", "Amount due"),
    "amount_credit": ("Hyvitys", "Kredit", "Amount credited"),
    "times_note": (
        "Ajat paikallista aikaa ({tz}).",
        "Tiderna i lokal tid ({tz}).",
        "Times are local time ({tz}).",
    ),
    "none": ("-", "-", "-"),
    "state.draft": ("luonnos", "utkast", "draft"),
    "state.approved": ("hyväksytty", "godkänd", "approved"),
    "state.locked": ("lukittu", "låst", "locked"),
    "state.corrected": ("korjattu", "rättad", "corrected"),
    "state.provisional": ("alustava luonnos", "preliminärt utkast", "provisional draft"),
    # summary charts
    "chart.zones": (
        "Painotetut tunnit vyöhykkeittäin",
        "Viktade timmar per zon",
        "Weighted hours by zone",
    ),
    "chart.weeks": (
        "Painotetut tunnit viikoittain",
        "Viktade timmar per vecka",
        "Weighted hours by week",
    ),
    "chart.shares": (
        "Osuus kustannuksista ja henkilötyövuosista",
        "Andel av kostnaden och av årsverkena",
        "Share of the cost and of the headcount",
    ),
    "share.cost": ("Osuus kustannuksista", "Andel av kostnaden", "Share of the cost"),
    "share.headcount": (
        "Osuus henkilötyövuosista",
        "Andel av årsverkena",
        "Share of the headcount",
    ),
    "week_short": ("vk {w}", "v. {w}", "wk {w}"),
    "no_usage": ("Ei mitattua käyttöä.", "Ingen uppmätt användning.", "No measured use."),
    "chart.note": (
        "Viikot ovat ISO-viikkoja paikallista aikaa; viikkojen summa on rivien "
        "painotetut tunnit yhteensä ({total} h).",
        "Veckorna är ISO-veckor i lokal tid; veckornas summa är radernas viktade "
        "timmar sammanlagt ({total} h).",
        "Weeks are ISO weeks in local time; they add up to the lines' weighted hours ({total} h).",
    ),
    # sections
    "s1": ("1. Mitattu käyttö", "1. Uppmätt användning", "1. What was measured"),
    "s1.text": (
        "Käytössä olleet tunnit aukioloaikana läsnäoloanturien mukaan. Oma: vyöhykkeidenne tilat. "
        "Varattu: yhteiskäyttötilat varaustenne aikana. Yhteinen: osuutenne "
        "varaamattomasta yhteiskäytöstä suhteessa kohdennettuun käyttöönne "
        "({share} tässä kuussa). Kattavuus: osuus aukioloajasta, jonka anturit "
        "havaitsivat.",
        "Belagda timmar under öppettiden, från närvarosensorer. Egen: utrymmen i era "
        "zoner. Bokad: gemensamma utrymmen under era bokningar. Gemensam: er andel av "
        "obokad gemensam användning i proportion till er tilldelade användning "
        "({share} denna månad). Täckning: andelen av öppettiden som sensorerna observerade.",
        "Occupied hours inside opening hours, from presence sensors. Dedicated: spaces "
        "in your zones. Booked: shared spaces during your bookings. Pool: your share of "
        "unbooked use of shared spaces, in proportion to your attributed use ({share} "
        "this month). Coverage: the share of opening time the sensors observed.",
    ),
    "s2": ("2. Hinnoittelu", "2. Prissättning", "2. How it was priced"),
    "s2.cost": (
        "Tariffi '{tariff}' versio {version}. Kiinteistön katettava kustannus on {cost}: "
        "{base_share} henkilötyövuosien mukaan ({base_pot} / {htv} htv) ja loput "
        "painotettujen tuntien mukaan ({usage_pot} / {wh} painotettua tuntia, {per_wh} "
        "tunnilta). Painot ({basis}): {weights}. Summat pyöristetään senteiksi "
        "suurimman jakojäännöksen menetelmällä, joten kaikkien virastojen rivit ovat "
        "yhteensä tasan kustannus.",
        "Tariff '{tariff}' version {version}. Fastighetens kostnad att täcka är {cost}: "
        "{base_share} enligt årsverken ({base_pot} / {htv} årsv.) och resten enligt "
        "viktade timmar ({usage_pot} / {wh} viktade timmar, {per_wh} per timme). Vikter "
        "({basis}): {weights}. Beloppen avrundas till cent med största restens metod, "
        "så alla myndigheters rader blir exakt kostnaden.",
        "Tariff '{tariff}' version {version}. The site's cost to recover is {cost}: "
        "{base_share} by headcount ({base_pot} over {htv} htv) and the rest by weighted "
        "hours ({usage_pot} over {wh} weighted hours, {per_wh} each). Weights ({basis}): "
        "{weights}. Amounts are rounded to the cent by the largest-remainder method, so "
        "the lines of all agencies sum exactly to the cost.",
    ),
    "s2.unit": (
        "Tariffi '{tariff}' versio {version}: {base} henkilötyövuodelta ja {usage} "
        "painotetulta tunnilta.",
        "Tariff '{tariff}' version {version}: {base} per årsverke och {usage} per viktad timme.",
        "Tariff '{tariff}' version {version}: {base} per htv and {usage} per weighted hour.",
    ),
    "s3": ("3. Arvioitu", "3. Uppskattat", "3. What was estimated"),
    "s3.some": (
        "Rivit, joiden kattavuus on alle {min}, ovat arvioita: mitatut tunnit jaetaan "
        "kattavuudella (havaitsematon aika oletetaan käytetyksi samassa suhteessa).",
        "Rader med täckning under {min} är uppskattade: de uppmätta timmarna delas med "
        "täckningen (den oobserverade tiden antas använd i samma takt).",
        "Lines whose coverage is below {min} are estimated: their measured hours are "
        "divided by the coverage (the unobserved time is assumed used at the observed rate).",
    ),
    "s3.line": (
        "- {line}: kattavuus {coverage}, kerroin {scale}",
        "- {line}: täckning {coverage}, faktor {scale}",
        "- {line}: coverage {coverage}, scale {scale}",
    ),
    "s3.none": (
        "Ei mitään: jokaisen rivin kattavuus oli vähintään {min}.",
        "Ingenting: varje rad hade en täckning på minst {min}.",
        "Nothing: every line had coverage of at least {min}.",
    ),
    "s4": (
        "4. Varaukset ja käyttämättömät varaukset",
        "4. Bokningar och uteblivna",
        "4. Bookings and no-shows",
    ),
    "s4.text": (
        "{bookings} varausta alkoi tässä kuussa; {no_shows} jäi käyttämättä (ei "
        "läsnäoloa ensimmäisten {window} minuutin aikana), {hours} varattua tuntia. "
        "{charged} {unverified} varausta ei voitu todentaa (anturi ei havainnut), eikä "
        "niitä lasketa.",
        "{bookings} bokningar började denna månad; {no_shows} var uteblivna (ingen "
        "närvaro under de första {window} minuterna), {hours} bokade timmar. {charged} "
        "{unverified} bokningar kunde inte verifieras (sensorn observerade inte) och "
        "räknas inte.",
        "{bookings} bookings started this month; {no_shows} were no-shows (no presence "
        "in the first {window} minutes), {hours} booked hours. {charged} {unverified} "
        "bookings could not be verified (sensor not observing) and are not counted.",
    ),
    "s4.charged": (
        "Käyttämättömien varausten tunnit veloitetaan.",
        "Uteblivna bokningars timmar debiteras.",
        "Unused booked hours of no-shows are charged.",
    ),
    "s4.not_charged": (
        "Käyttämättömien varausten tunteja ei veloiteta.",
        "Uteblivna bokningars timmar debiteras inte.",
        "Unused booked hours of no-shows are not charged.",
    ),
    "s5": (
        "5. Tarkastus: näin rivi lasketaan",
        "5. Granskning: så räknas raden",
        "5. Audit: how to recompute each line",
    ),
    "s5.base": (
        "{line}: perusosuus {base_pot} × henkilötyövuotenne {htv} / kaikki {total_htv} "
        "= {quota}, senteiksi pyöristettynä {amount}.",
        "{line}: grundpotten {base_pot} × era årsverken {htv} / alla {total_htv} "
        "= {quota}, avrundat till cent {amount}.",
        "{line}: base pot {base_pot} × your headcount {htv} / all {total_htv} "
        "= {quota}, rounded to the cent {amount}.",
    ),
    "s5.usage": (
        "{line}: tunnit = (oma {ded} + varattu {bkd} + yhteinen {pool}) × kerroin "
        "{scale} + käyttämättömät {ns} = {hours} h; painotetut tunnit = kunkin tilan "
        "tunnit × tilan paino, yhteensä {wh}; osuus = käyttöosuus {usage_pot} × {wh} "
        "/ kaikki {total_wh} = {quota}, senteiksi pyöristettynä {amount}.",
        "{line}: timmar = (egen {ded} + bokad {bkd} + gemensam {pool}) × faktor "
        "{scale} + uteblivna {ns} = {hours} h; viktade timmar = varje utrymmes timmar "
        "× dess vikt, sammanlagt {wh}; andel = användningspotten {usage_pot} × {wh} / "
        "alla {total_wh} = {quota}, avrundat till cent {amount}.",
        "{line}: hours = (dedicated {ded} + booked {bkd} + pool {pool}) × scale "
        "{scale} + no-show {ns} = {hours} h; weighted hours = each space's hours × its "
        "weight, in all {wh}; share = usage pot {usage_pot} × {wh} / all {total_wh} "
        "= {quota}, rounded to the cent {amount}.",
    ),
    "s5.unit_line": (
        "{line}: {quantity} × {price} = {amount} (pyöristys puoli ylöspäin senttiin).",
        "{line}: {quantity} × {price} = {amount} (avrundat halvt uppåt till cent).",
        "{line}: {quantity} × {price} = {amount} (rounded half up to the cent).",
    ),
    "s5.rounding": (
        "Pyöristys: jokainen osuus pyöristetään alaspäin senttiin, ja jäljelle jääneet "
        "sentit annetaan yksi kerrallaan riveille, joilla on suurimmat desimaaliosat. "
        "Tarkat osuudet ovat XLSX- ja JSON-laskelmassa.",
        "Avrundning: varje andel avrundas nedåt till cent och de återstående centen ges "
        "en i taget till raderna med de största decimaldelarna. De exakta andelarna "
        "finns i XLSX- och JSON-specifikationen.",
        "Rounding: every share is rounded down to the cent, and the cents left over go "
        "one each to the lines with the largest fractional parts. The exact shares are "
        "in the XLSX and JSON statements.",
    ),
    "s5.raw": (
        "Tilojen tunnit voi tarkistaa raakadatasta laskettuina raportteina (source=raw):",
        "Utrymmenas timmar kan kontrolleras i rapporter beräknade från rådata (source=raw):",
        "The hours per space can be checked against reports recomputed from raw data (source=raw):",
    ),
    "s5.versions": (
        "Tariffiversio {tariff} (sha256 {sha}); rekisteriversio {registry}; syötteiden "
        "tiiviste {inputs}. Sama tiiviste uudelleenlaskennassa tarkoittaa samoja "
        "syötteitä.",
        "Tariffversion {tariff} (sha256 {sha}); registerversion {registry}; "
        "indatahash {inputs}. Samma hash vid omräkning betyder samma indata.",
        "Tariff version {tariff} (sha256 {sha}); registry version {registry}; inputs "
        "hash {inputs}. The same hash on a rerun means the same inputs.",
    ),
    "link.spaces": ("Käyttöaste tiloittain", "Användningsgrad per utrymme", "Utilisation by space"),
    "link.agency": (
        "Käyttöaste virastolle",
        "Användningsgrad för myndigheten",
        "Utilisation of the agency",
    ),
    "link.charges": (
        "Laskelma JSON-muodossa (tunnit tiloittain)",
        "Specifikationen som JSON (timmar per utrymme)",
        "The statement as JSON (hours per space)",
    ),
    # table columns
    "col.line": ("rivi", "rad", "line"),
    "col.dedicated": ("oma h", "egen h", "dedicated h"),
    "col.booked": ("varattu h", "bokad h", "booked h"),
    "col.pool": ("yhteinen h", "gemensam h", "pool h"),
    "col.no_show": ("käyttämätön h", "utebliven h", "no-show h"),
    "col.coverage": ("kattavuus", "täckning", "coverage"),
    "col.hours": ("tunnit", "timmar", "hours"),
    "col.weight": ("paino", "vikt", "weight"),
    "col.weighted": ("painotetut h", "viktade h", "weighted h"),
    "col.amount": ("summa", "belopp", "amount"),
    "col.booking": ("varaus", "bokning", "booking"),
    "col.space": ("tila", "utrymme", "space"),
    "col.start": ("alku", "början", "start"),
    "col.status": ("tilanne", "status", "status"),
    "col.charged": ("veloitettu h", "debiterad h", "charged h"),
    "col.bookings": ("varaukset", "bokningar", "bookings"),
    "col.no_shows": ("käyttämättä", "uteblivna", "no-shows"),
    "col.headcount": ("htv", "årsv.", "htv"),
    "total": ("yhteensä", "totalt", "total"),
    "totals": ("Summat", "Summor", "Totals"),
    "agencies": ("Virastot", "Myndigheter", "Agencies"),
    "status.no_show": ("käyttämättä", "utebliven", "no-show"),
    "status.unverified": ("todentamaton", "ej verifierad", "unverified"),
    "page": ("sivu {n} / {total}", "sida {n} / {total}", "page {n} / {total}"),
    # lines and space types
    "line.base": ("Perusmaksu (henkilötyövuodet)", "Grundavgift (årsverken)", "Base (headcount)"),
    "line.desk": ("Työpisteet", "Arbetsplatser", "Desks"),
    "line.meeting_room": ("Neuvotteluhuoneet", "Mötesrum", "Meeting rooms"),
    "line.project_room": ("Projektihuoneet", "Projektrum", "Project rooms"),
    "line.focus_room": ("Hiljaiset huoneet", "Tysta rum", "Focus rooms"),
    "line.phone_booth": ("Puhelinkopit", "Telefonbås", "Phone booths"),
    "line.service_point": ("Palvelupisteet", "Servicepunkter", "Service points"),
    "line.lounge": ("Oleskelutilat", "Loungeutrymmen", "Lounges"),
    # notes, from the charge's own flags
    "note.pool_headcount": (
        "Vyöhykkeille tai varauksille ei kohdennettu käyttöä, joten yhteinen käyttö "
        "jaetaan henkilötyövuosien mukaan.",
        "Ingen användning tilldelades zoner eller bokningar, så den gemensamma "
        "användningen fördelas enligt årsverken.",
        "No use was attributed by zone or booking, so the shared pool is allocated by headcount.",
    ),
    "note.pool_equal": (
        "Vyöhykkeille tai varauksille ei kohdennettu käyttöä, joten yhteinen käyttö jaetaan tasan.",
        "Ingen användning tilldelades zoner eller bokningar, så den gemensamma "
        "användningen fördelas lika.",
        "No use was attributed by zone or booking, so the shared pool is split equally.",
    ),
    "note.usage_headcount": (
        "Painotettua käyttöä ei mitattu tässä kuussa, joten käyttöosuus jaetaan "
        "henkilötyövuosien mukaan perusosuuden kanssa.",
        "Ingen viktad användning uppmättes denna månad, så användningsandelen "
        "fördelas enligt årsverken tillsammans med grundandelen.",
        "No weighted use was measured this month, so the usage share is allocated by "
        "headcount together with the base share.",
    ),
    # spreadsheet
    "sheet.summary": ("Yhteenveto", "Sammanfattning", "Summary"),
    "sheet.lines": ("Rivit", "Rader", "Lines"),
    "sheet.spaces": ("Tilat", "Utrymmen", "Spaces"),
    "sheet.no_shows": ("Käyttämättömät", "Uteblivna", "No-shows"),
    "xl.scale": ("kerroin", "faktor", "scale"),
    "xl.estimated": ("arvioitu", "uppskattad", "estimated"),
    "xl.quota": ("tarkka osuus", "exakt andel", "exact share"),
    "xl.tariff_version": ("tariffiversio", "tariffversion", "tariff version"),
    "xl.registry_version": ("rekisteriversio", "registerversion", "registry version"),
    "xl.inputs_hash": ("syötteiden tiiviste", "indatahash", "inputs hash"),
    "xl.cost": ("katettava kustannus", "kostnad att täcka", "cost to recover"),
    "xl.base_pot": ("perusosuus (htv)", "grundpott (årsv.)", "base pot (headcount)"),
    "xl.usage_pot": ("käyttöosuus", "användningspott", "usage pot"),
    "xl.total_wh": ("painotetut tunnit yhteensä", "viktade timmar totalt", "total weighted hours"),
    "xl.total_htv": ("henkilötyövuodet yhteensä", "årsverken totalt", "total headcount (htv)"),
    "xl.tariff": ("tariffi", "tariff", "tariff"),
    "xl.name": ("nimi", "namn", "name"),
    "xl.zone": ("vyöhyke", "zon", "zone"),
    "xl.opening": ("aukiolo h", "öppet h", "opening h"),
    "xl.observed": ("havaittu h", "observerad h", "observed h"),
    "xl.occupied": ("käytössä h", "belagd h", "occupied h"),
    "xl.pool_all": ("yhteinen h (kaikki)", "gemensam h (alla)", "pool h (all)"),
    "xl.end": ("loppu", "slut", "end"),
    "yes": ("kyllä", "ja", "yes"),
    "no": ("ei", "nej", "no"),
}

_MONTHS = {
    "fi": "tammikuu helmikuu maaliskuu huhtikuu toukokuu kesäkuu heinäkuu elokuu "
    "syyskuu lokakuu marraskuu joulukuu",
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "en": "January February March April May June July August September October November December",
}


_CATALOGUE = Catalogue(_M)
t = _CATALOGUE.t
keys = _CATALOGUE.keys
translations = _CATALOGUE.translations


def month_name(lang: str, month: str) -> str:
    """'2026-11' -> 'marraskuu 2026' / 'november 2026' / 'November 2026'."""
    year, mon = month.split("-")
    return f"{_MONTHS[lang].split()[int(mon) - 1]} {year}"


def _decimal(value: Decimal | Fraction | str | int, places: int) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def number(value: Decimal | Fraction | str | int, lang: str, places: int = 2) -> str:
    """A number the locale's way: fi/sv '38 407,87' (no-break space), en '38,407.87'."""
    text = f"{_decimal(value, places):,.{places}f}"
    if lang == "en":
        return text
    return text.replace(",", _NBSP).replace(".", ",")


def money(value: Decimal | Fraction | str | int, lang: str) -> str:
    """Euros with two decimals; 'EUR' since the PDF core fonts have no euro sign."""
    return f"{number(value, lang)}{_NBSP}EUR"


def percent(value: Decimal | Fraction | str, lang: str, places: int = 1) -> str:
    return f"{number(_decimal(value, 8) * 100, lang, places)}{_NBSP}%"


def day(value: date | None, lang: str) -> str:
    """fi/sv '1.12.2026', en '2026-12-01'."""
    if value is None:
        return t(lang, "none")
    if lang == "en":
        return value.isoformat()
    return f"{value.day}.{value.month}.{value.year}"


def day_span(first: date, last: date, lang: str) -> str:
    """Days of one month, short: fi/sv '2.-8.11.' or '30.11.', en '11-02..08' or '11-30'."""
    if lang == "en":
        head = f"{first.month:02d}-{first.day:02d}"
        return head if first == last else f"{head}..{last.day:02d}"
    if first == last:
        return f"{first.day}.{first.month}."
    return f"{first.day}.-{last.day}.{last.month}."


def local_time(value: datetime, lang: str, tz: object) -> str:
    """A moment in the site's zone, with the zone's abbreviation: '4.11.2026 09:00 EET'."""
    local = value.astimezone(tz)  # type: ignore[arg-type]
    return f"{day(local.date(), lang)} {local:%H:%M} {local.tzname()}"
