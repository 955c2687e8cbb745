"""Every word the agency's report prints, in Finnish, Swedish and English.

Numbers, dates and month names are written the statements' way
(``charging.statements.messages``), so a report and a statement of the same
month read alike. tests/api/test_agency_report.py checks that every key has
every language with the same placeholders.
"""

from __future__ import annotations

from charging.statements.messages import LANGS, check_lang, day, month_name, number, percent
from core.catalogue import Catalogue, Texts

__all__ = [
    "LANGS",
    "check_lang",
    "day",
    "keys",
    "month_name",
    "number",
    "percent",
    "t",
    "translations",
]

# key -> (fi, sv, en). Placeholders are str.format fields.
_M: dict[str, Texts] = {
    "title": ("Viraston tilaraportti", "Myndighetens lokalrapport", "Agency premises report"),
    "year": ("vuosi {year}", "år {year}", "year {year}"),
    "subtitle": ("{agency}, {period}", "{agency}, {period}", "{agency}, {period}"),
    "sites_line": (
        "Toimipaikat: {sites}. Henkilötyövuosia yhteensä {htv}.",
        "Verksamhetsställen: {sites}. Årsverken (htv) totalt {htv}.",
        "Sites: {sites}. Person-years (htv) in total {htv}.",
    ),
    "page": ("sivu {n} / {total}", "sida {n} / {total}", "page {n} / {total}"),
    "none": ("-", "-", "-"),
    "hidden": ("ei näytetä", "visas inte", "not shown"),
    "yes": ("kyllä", "ja", "yes"),
    "no": ("ei", "nej", "no"),
    # summary
    "h.summary": (
        "Luvut tavoitteeseen ja salkkuun verrattuna",
        "Siffror mot målet och portföljen",
        "Figures against the target and the portfolio",
    ),
    "col.figure": ("Luku", "Mått", "Figure"),
    "col.total": ("Virasto yhteensä", "Myndigheten totalt", "Agency total"),
    "col.portfolio": (
        "Salkku, toimipaikkoja {n}",
        "Portföljen, ställen: {n}",
        "Portfolio, sites: {n}",
    ),
    "target_line": (
        "Tilatehokkuus {value} m²/htv, tavoite {target} m²/htv: {verdict}.",
        "Lokaleffektivitet {value} m²/htv, mål {target} m²/htv: {verdict}.",
        "Space efficiency {value} m²/htv, target {target} m²/htv: {verdict}.",
    ),
    "verdict.meets": ("tavoite saavutettu", "målet nås", "meets the target"),
    "verdict.misses": (
        "{gap} m²/htv yli tavoitteen",
        "{gap} m²/htv över målet",
        "{gap} m²/htv above the target",
    ),
    "portfolio_line": (
        "Salkun tilatehokkuus {value} m²/htv (tavoite {target} m²/htv).",
        "Portföljens lokaleffektivitet {value} m²/htv (mål {target} m²/htv).",
        "The portfolio's space efficiency is {value} m²/htv (target {target} m²/htv).",
    ),
    "agency_key_note": (
        "Viraston avaimella salkun ja kiinteistön käyttöluvut eivät näy (ne sisältäisivät "
        "muiden virastojen omia tiloja); yhteinen pinta-ala jaetaan henkilötyövuosien mukaan.",
        "Med myndighetens nyckel visas inte portföljens och fastighetens användningssiffror "
        "(de skulle omfatta andra myndigheters egna lokaler); den gemensamma ytan fördelas "
        "efter årsverken.",
        "With an agency key the portfolio's and the site's use figures are not shown (they "
        "would include other agencies' own spaces); the shared area is split by headcount.",
    ),
    # figures
    "f.headcount_htv": ("Henkilötyövuodet (htv)", "Årsverken (htv)", "Person-years (htv)"),
    "f.desks": ("Omat työpisteet", "Egna arbetsplatser", "Own desks"),
    "f.area_m2": ("Pinta-ala (m²)", "Yta (m²)", "Area (m²)"),
    "f.m2_per_htv": (
        "Tilatehokkuus (m²/htv)",
        "Lokaleffektivitet (m²/htv)",
        "Space efficiency (m²/htv)",
    ),
    "f.target_m2_per_htv": ("Tavoite (m²/htv)", "Mål (m²/htv)", "Target (m²/htv)"),
    "f.peak_desks": (
        "Suurin päivähuippu (läsnä)",
        "Högsta dagstopp (närvarande)",
        "Highest daily peak (present)",
    ),
    "f.p90_peak_desks": ("Päivähuippujen p90", "Dagstoppens p90", "p90 of daily peaks"),
    "f.use_rate_mean": (
        "Käyttöaste (huippujen keskiarvo / htv)",
        "Användningsgrad (toppars medel / htv)",
        "Use rate (mean peak / htv)",
    ),
    "f.use_rate_p90": ("Käyttöaste, p90", "Användningsgrad, p90", "Use rate, p90"),
    "f.use_rate_max": ("Käyttöaste, suurin", "Användningsgrad, högsta", "Use rate, highest"),
    "f.desks_held": (
        "Työpisteet (omat + yhteisosuus)",
        "Arbetsplatser (egna + delad andel)",
        "Desks held (own + share of shared)",
    ),
    "f.desks_needed": ("Tarvittavat työpisteet", "Behövda arbetsplatser", "Desks needed"),
    "f.utilisation": (
        "Tilojen käyttö (aikaosuus)",
        "Lokalanvändning (tidsandel)",
        "Utilisation (share of time)",
    ),
    "f.coverage": ("Kattavuus", "Täckning", "Coverage"),
    "f.releasable_desks": (
        "Vapautettavat työpisteet",
        "Arbetsplatser som kan frigöras",
        "Releasable desks",
    ),
    "f.releasable_m2": (
        "Vapautettava ala (m²)",
        "Yta som kan frigöras (m²)",
        "Releasable area (m²)",
    ),
    "f.m2_per_htv_after": (
        "m²/htv vapautuksen jälkeen",
        "m²/htv efter frigörandet",
        "m²/htv after the release",
    ),
    # sites
    "h.site": ("Toimipaikka: {site}", "Verksamhetsställe: {site}", "Site: {site}"),
    "site_line": (
        "{place}. Aikavyöhyke {tz}; päivät ja kellonajat paikallista aikaa.",
        "{place}. Tidszon {tz}; datum och klockslag i lokal tid.",
        "{place}. Time zone {tz}; dates and times are local.",
    ),
    "h.daily": ("Päivän huippu", "Dagens topp", "Daily peak"),
    "h.daily_total": (
        "Päivän huippu, kaikki toimipaikat yhteensä",
        "Dagens topp, alla verksamhetsställen sammanlagt",
        "Daily peak, all sites added up",
    ),
    "daily_caption": (
        "Viraston läsnäolo: omat ja varatut työpisteet käytössä + osuus yhteisistä, päivän "
        "suurin samanaikainen määrä (mitattuja aukiolopäiviä: {n}; päivä ilman havaintoja "
        "jätetään pois).",
        "Myndighetens närvaro: egna och bokade arbetsplatser i bruk + andel av gemensamma, "
        "dagens högsta samtidiga antal (uppmätta öppetdagar: {n}; en dag utan observationer "
        "räknas inte).",
        "The agency's presence: own and booked desks in use + its share of the shared ones, "
        "the day's highest at the same time (measured open days: {n}; a day without "
        "observations is left out).",
    ),
    "h.weekday": (
        "Käyttöaste viikonpäivittäin",
        "Användningsgrad per veckodag",
        "Use rate by weekday",
    ),
    "h.zones": ("Tilojen käyttö vyöhykkeittäin", "Lokalanvändning per zon", "Utilisation by zone"),
    "shared_zone": ("{zone} (yhteinen)", "{zone} (gemensam)", "{zone} (shared)"),
    "h.trend": ("Tilatehokkuus kuukausittain", "Lokaleffektivitet per månad", "m²/htv by month"),
    "trend_legend": (
        "Palkit: virasto (vaalea: ei mittauksia, vain rekisterin luvut). Viiva: tavoite. "
        "Pisteet: salkku.",
        "Staplar: myndigheten (ljus: inga mätningar, bara registrets siffror). Linje: målet. "
        "Punkter: portföljen.",
        "Bars: the agency (pale: nothing measured, registry figures only). Line: the target. "
        "Dots: the portfolio.",
    ),
    "h.forecast": ("Ennuste", "Prognos", "Forecast"),
    "forecast_caption": (
        "Odotettu läsnäolon päivähuippu (työpisteitä) {start} alkaen, 80 %:n ennustevälillä; "
        "mitattuja päiviä historiassa: {days}.",
        "Förväntad dagstopp för närvaron (arbetsplatser) från {start}, med 80 % prognosintervall; "
        "uppmätta dagar i historiken: {days}.",
        "Expected daily peak of presence (desks) from {start}, with an 80 % prediction interval; "
        "measured days of history: {days}.",
    ),
    "no_data": ("Ei mitattuja päiviä.", "Inga uppmätta dagar.", "No measured days."),
    "h.coverage": ("Kattavuus", "Täckning", "Coverage"),
    "coverage_line": (
        "{site}: kattavuus {coverage} aukioloajasta; {summaries} päivää koosteista, "
        "{raw} raakadatasta.",
        "{site}: täckning {coverage} av öppettiden; {summaries} dagar från sammanställningar, "
        "{raw} från rådata.",
        "{site}: coverage {coverage} of the opening hours; {summaries} days from summaries, "
        "{raw} from raw points.",
    ),
    "coverage_missing": (
        "Päiviä, joiden raakadata on poistettu eikä koostetta ole: {days}.",
        "Dagar vars rådata har raderats utan sammanställning: {days}.",
        "Days whose raw points are gone without a summary: {days}.",
    ),
    "h.energy": ("Energia", "Energi", "Energy"),
    # definitions (the footnote)
    "h.definitions": ("Määritelmät", "Definitioner", "Definitions"),
    "def.use_rate": (
        "Läsnäolo = viraston käytössä olevat omat ja sille varatut työpisteet + sen osuus "
        "varaamattomista yhteisistä työpisteistä (osuus käytön mukaan, kuten laskutuksessa). "
        "Käyttöaste = päivän suurimman läsnäolon keskiarvo aukiolopäivinä / "
        "henkilötyövuodet; lisäksi p90 ja suurin päivähuippu / henkilötyövuodet. Päivät, "
        "joilta ei ole yhtään havaintoa työpisteistä, jätetään pois.",
        "Närvaro = myndighetens använda egna och bokade arbetsplatser + dess andel av de "
        "obokade gemensamma arbetsplatserna (andel efter användning, som i debiteringen). "
        "Användningsgrad = medelvärdet av dagens högsta närvaro över öppetdagarna / "
        "årsverken; dessutom p90 och högsta dagstopp / årsverken. Dagar utan "
        "en enda observation av arbetsplatserna räknas inte.",
        "Presence = the agency's own and booked desks in use + its share of the unbooked "
        "shared desks in use (the share by use, as in charging). Use rate = the mean over "
        "the open days of the day's highest presence / person-years; also the p90 and the "
        "highest daily peak / person-years. Days on which no desk was observed are left out.",
    ),
    "def.m2_per_htv": (
        "Tilatehokkuus = viraston pinta-ala / henkilötyövuodet. Pinta-ala = omien "
        "vyöhykkeiden tilat + osuus muusta alasta käytön mukaan.",
        "Lokaleffektivitet = myndighetens yta / årsverken. Ytan = de egna zonernas lokaler "
        "+ en andel av övrig yta efter användning.",
        "Space efficiency = the agency's area / person-years. Area = the spaces of its own "
        "zones + a share of the rest of the area by use.",
    ),
    "def.utilisation": (
        "Tilojen käyttö = varattu aika / havaittu aika aukioloaikana. Kattavuus = "
        "havaittu osuus aukioloajasta.",
        "Lokalanvändning = upptagen tid / observerad tid under öppettiden. Täckning = "
        "observerad andel av öppettiden.",
        "Utilisation = occupied time / observed time in the opening hours. Coverage = the "
        "observed share of the opening hours.",
    ),
    "def.releasable": (
        "Tarvittavat työpisteet = päivähuippujen p90 pyöristettynä ylöspäin, lisättynä "
        "{margin} marginaalilla ja pyöristettynä ylöspäin. Vapautettavat työpisteet = "
        "omat työpisteet + osuus yhteisistä - tarvittavat, alaspäin pyöristettynä.",
        "Behövda arbetsplatser = dagstoppens p90 avrundad uppåt, ökad med marginalen "
        "{margin} och avrundad uppåt. Arbetsplatser som kan frigöras = egna + andel av "
        "gemensamma - behövda, avrundat nedåt.",
        "Desks needed = the p90 of daily peaks rounded up, plus the margin of {margin}, "
        "rounded up. Releasable desks = own desks + the share of shared desks - desks "
        "needed, rounded down.",
    ),
    "def.forecast": (
        "Ennuste läsnäolon päivähuipusta: viikonpäivän mediaanitaso ja lineaarinen "
        "trendi; väli menneistä ennustevirheistä (10 % ja 90 %).",
        "Prognos av närvarons dagstopp: veckodagens mediannivå och linjär trend; "
        "intervallet från tidigare prognosfel (10 % och 90 %).",
        "Forecast of the daily peak of presence: the weekday's median level and a linear "
        "trend; the interval from past forecast errors (10 % and 90 %).",
    ),
    "def.portfolio": (
        "Salkku = kaikki rekisterin toimipaikat; luvut summista, suhdeluvut kerran.",
        "Portföljen = alla verksamhetsställen i registret; siffror av summor, kvoter en gång.",
        "Portfolio = every site of the registry; figures from sums, ratios taken once.",
    ),
}

WEEKDAYS = {
    "fi": "ma ti ke to pe la su",
    "sv": "mån tis ons tors fre lör sön",
    "en": "Mon Tue Wed Thu Fri Sat Sun",
}
_SHORT_MONTHS = {
    "fi": "tammi helmi maalis huhti touko kesä heinä elo syys loka marras joulu",
    "sv": "jan feb mar apr maj jun jul aug sep okt nov dec",
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
}


_CATALOGUE = Catalogue(_M)
t = _CATALOGUE.t
keys = _CATALOGUE.keys
translations = _CATALOGUE.translations


def weekday(lang: str, w: int) -> str:
    return WEEKDAYS[lang].split()[w]


def short_month(lang: str, month: str) -> str:
    """'2026-11' -> 'marras 26' / 'nov 26' / 'Nov 26'."""
    year, mon = month.split("-")
    return f"{_SHORT_MONTHS[lang].split()[int(mon) - 1]} {year[2:]}"
