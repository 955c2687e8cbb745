"""The site model as Brick Schema Turtle (``occupancy site export --format
brick``; docs/integrations.md, "Brick").

Brick 1.4 took RealEstateCore (REC) in for locations and deprecated its own
location classes (``brick:Building``, ``brick:Floor``, ``brick:Room``,
``brick:HVAC_Zone`` ... each names its REC replacement), and neither Brick
1.3 nor 1.4 has a desk class. So locations are REC classes, as Brick 1.4
recommends: the site is a ``rec:Building``, a floor a ``rec:Level``, a zone a
``rec:HVACZone`` or a lighting zone where the site file says so, otherwise a
``rec:Zone``; a desk is a ``rec:Workspace`` with a ``rec:Desk`` located in
it (the replacement Brick names for its deprecated ``brick:Cubicle``), rooms
are REC rooms. ``brick:Lighting_Zone`` has no REC replacement yet: such a
zone is typed both ``brick:Lighting_Zone`` and ``rec:Zone`` (what Brick's own
deprecation rule adds), and Brick's validation warns of the deprecation.

Sensors are Brick: each bound sensor is a ``brick:Sensor_Equipment`` located
in its space, with one point, a ``brick:Occupancy_Sensor``. The project's
ids are the IRIs' last segments and each node's ``dcterms:identifier``.

``SHAPES`` (``brick_shapes.ttl``) adds what this export promises beyond
Brick's own shapes, e.g. that every point is a point of something.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, XSD

from core.registry import Site, SpaceType

BRICK = Namespace("https://brickschema.org/schema/Brick#")
REC = Namespace("https://w3id.org/rec#")
BRICK_VERSION = "1.4"
SHAPES = Path(__file__).with_name("brick_shapes.ttl")

SPACE_CLASSES: dict[SpaceType, URIRef] = {
    SpaceType.DESK: REC.Workspace,
    SpaceType.SERVICE_POINT: REC.Workspace,
    SpaceType.MEETING_ROOM: REC.ConferenceRoom,
    SpaceType.PROJECT_ROOM: REC.ConferenceRoom,
    SpaceType.PHONE_BOOTH: REC.PhoneBooth,
    SpaceType.FOCUS_ROOM: REC.SmallStudyRoom,
    SpaceType.LOUNGE: REC.Lounge,
}
#: the furniture a workspace is for (REC assets located in it)
FURNITURE: dict[SpaceType, URIRef] = {
    SpaceType.DESK: REC.Desk,
    SpaceType.SERVICE_POINT: REC.ReceptionTable,
}
ZONE_CLASSES: dict[str | None, tuple[URIRef, ...]] = {
    None: (REC.Zone,),
    "hvac": (REC.HVACZone,),
    "lighting": (BRICK.Lighting_Zone, REC.Zone),
}


def default_base(site: Site) -> str:
    return f"urn:occupancy:{site.id}/"


def site_graph(site: Site, *, base: str | None = None) -> Graph:
    """The site's building, floors, zones, spaces and sensors as one graph."""
    ns = Namespace(base or default_base(site))
    g = Graph()
    g.bind("brick", BRICK)
    g.bind("rec", REC)
    g.bind("dcterms", DCTERMS)
    g.bind("site", ns)

    def node(iri: URIRef, classes: tuple[URIRef, ...], ident: str, named: object = None) -> None:
        for cls in classes:
            g.add((iri, RDF.type, cls))
        g.add((iri, DCTERMS.identifier, Literal(ident)))
        if named is not None:
            _labels(g, iri, named)

    building = ns["building"]
    node(building, (REC.Building,), site.id, site)
    for floor in site.floors:
        iri = ns[f"floor/{floor.id}"]
        node(iri, (REC.Level,), floor.id, floor)
        g.add((iri, REC.isPartOf, building))
        g.add((iri, REC.levelNumber, Literal(floor.level, datatype=XSD.integer)))
    for zone in site.zones:
        iri = ns[f"zone/{zone.id}"]
        node(iri, ZONE_CLASSES[zone.system], zone.id, zone)
        g.add((iri, REC.isPartOf, ns[f"floor/{zone.floor}"]))
    for space in site.spaces:
        iri = ns[f"space/{space.id}"]
        node(iri, (SPACE_CLASSES[space.type],), space.id, space)
        g.add((iri, REC.isPartOf, ns[f"zone/{space.zone}"]))
        furniture = FURNITURE.get(space.type)
        if furniture is not None:
            item = ns[f"space/{space.id}/furniture"]
            node(item, (furniture,), space.id)
            g.add((item, REC.locatedIn, iri))
        if space.sensor is not None:
            sensor = ns[f"sensor/{space.sensor.id}"]
            node(sensor, (BRICK.Sensor_Equipment,), space.sensor.id)
            g.add((sensor, REC.locatedIn, iri))
            point = ns[f"sensor/{space.sensor.id}/occupancy"]
            node(point, (BRICK.Occupancy_Sensor,), f"{space.sensor.id}/occupancy")
            g.add((point, BRICK.isPointOf, sensor))
            g.add((point, RDFS.label, Literal(f"occupancy of {space.id}")))
    return g


def _labels(g: Graph, iri: URIRef, named: object) -> None:
    name = getattr(named, "name", None)
    if name:
        g.add((iri, RDFS.label, Literal(name)))
    for lang in ("sv", "en"):
        text = getattr(named, f"name_{lang}", None)
        if text:
            g.add((iri, RDFS.label, Literal(text, lang=lang)))


def to_turtle(site: Site, *, base: str | None = None) -> str:
    return site_graph(site, base=base).serialize(format="turtle")
