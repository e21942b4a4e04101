"""The E-ARK SIP a transfer hands to an archive: METS, PREMIS, Dublin Core and the original (pure, no I/O).

Layout (E-ARK CSIP/SIP 2.1, one package per record, one representation):

    <package id>/METS.xml                               the root METS (csip:OAISPACKAGETYPE="SIP")
    <package id>/metadata/descriptive/dc.xml            Dublin Core: title, class, dates, parties
    <package id>/metadata/preservation/premis.xml       PREMIS 3: the object (fixity, size, format), the
                                                        retention basis and the transfer event
    <package id>/representations/rep1/METS.xml          the representation's METS
    <package id>/representations/rep1/data/<name>       the original, byte for byte

`build` returns the files as (relative path, bytes); the shell writes them where the user asked.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from records.model import Record

METS_NS = "http://www.loc.gov/METS/"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP_NS = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PREMIS_NS = "http://www.loc.gov/premis/v3"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
CSIP_PROFILE = "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
SCHEMA_LOCATION = (f"{METS_NS} http://www.loc.gov/standards/mets/mets.xsd "
                   f"{XLINK_NS} http://www.loc.gov/standards/mets/xlink.xsd "
                   f"{CSIP_NS} https://earkcsip.dilcis.eu/schema/DILCISExtensionMETS.xsd "
                   f"{SIP_NS} https://earksip.dilcis.eu/schema/DILCISExtensionSIPMETS.xsd")
SOFTWARE = "Strongroom"
README = "README.txt"
# Each file group states its content information type: office records have no E-ARK content type of their own.
_OTHER_CONTENT = {f"{{{CSIP_NS}}}CONTENTINFORMATIONTYPE": "OTHER",
                  f"{{{CSIP_NS}}}OTHERCONTENTINFORMATIONTYPE": "Office records (Strongroom)"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

for _prefix, _uri in (("mets", METS_NS), ("csip", CSIP_NS), ("sip", SIP_NS), ("xlink", XLINK_NS),
                      ("xsi", XSI_NS), ("premis", PREMIS_NS), ("dc", DC_NS), ("oai_dc", OAI_DC_NS)):
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """What the package says besides the record itself."""

    package_id: str  # also the folder name and the METS OBJID
    created: datetime
    office: str  # the submitting agent (the office's name, or the home's)
    class_name: str
    basis: str  # the retention basis that applied
    version: str = "0.1.0"


def build(record: Record, original: bytes, info: PackageInfo, schemas: list[tuple[str, bytes]]
          ) -> list[tuple[str, bytes]]:
    """Every file of the package, paths relative to the folder that will hold it. `schemas`: the XML schemas
    the METS files use, (file name, bytes), copied into schemas/."""
    root = info.package_id
    data_name = "data/" + safe_name(record.original_name or "original")
    dc = _xml(_dublin_core(record, info))
    premis = _xml(_premis(record, original, info, "representations/rep1/" + data_name))
    rep_mets = _xml(_rep_mets(record, original, info, data_name))
    readme = _readme(record, info).encode("utf-8")
    schema_files = [(f"schemas/{name}", data) for name, data in schemas]
    root_mets = _xml(_root_mets(record, info, dc=dc, premis=premis, rep_mets=rep_mets, readme=readme,
                                schemas=schema_files))
    return [(f"{root}/METS.xml", root_mets),
            (f"{root}/metadata/descriptive/dc.xml", dc),
            (f"{root}/metadata/preservation/premis.xml", premis),
            (f"{root}/documentation/{README}", readme),
            *((f"{root}/{path}", data) for path, data in schema_files),
            (f"{root}/representations/rep1/METS.xml", rep_mets),
            (f"{root}/representations/rep1/{data_name}", original)]


def _readme(record: Record, info: PackageInfo) -> str:
    return (f"E-ARK SIP made by {SOFTWARE} {info.version} on {_when(info)} for {info.office}.\n"
            f"Record {record.registry_number} (id {record.id}), class {record.record_class} {info.class_name}.\n"
            f"Its retention in the office ended ({info.basis}); it is handed to the archive in this package.\n"
            "metadata/descriptive/dc.xml: Dublin Core; metadata/preservation/premis.xml: PREMIS 3 (fixity, "
            "the transfer event); representations/rep1/data: the original, byte for byte.\n")


def safe_name(name: str) -> str:
    """A file name safe on any archive's file system (no folders, no odd characters)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _UNSAFE.sub("_", base).strip("._") or "original"


def _m(tag: str) -> str:
    return f"{{{METS_NS}}}{tag}"


def _xml(element: ET.Element) -> bytes:
    ET.indent(element)
    data: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return data


def _when(info: PackageInfo) -> str:
    return info.created.replace(microsecond=0).isoformat()


def _mets(info: PackageInfo, label: str, objid: str) -> ET.Element:
    mets = ET.Element(_m("mets"), {
        "OBJID": objid, "LABEL": label, "TYPE": "Other", f"{{{CSIP_NS}}}OTHERTYPE": "Records",
        f"{{{CSIP_NS}}}CONTENTINFORMATIONTYPE": "MIXED", "PROFILE": SIP_PROFILE,
        f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATION})
    header = ET.SubElement(mets, _m("metsHdr"), {"CREATEDATE": _when(info), "LASTMODDATE": _when(info),
                                                "RECORDSTATUS": "NEW", f"{{{CSIP_NS}}}OAISPACKAGETYPE": "SIP"})
    software = ET.SubElement(header, _m("agent"), {"ROLE": "CREATOR", "TYPE": "OTHER", "OTHERTYPE": "SOFTWARE"})
    ET.SubElement(software, _m("name")).text = SOFTWARE
    ET.SubElement(software, _m("note"), {f"{{{CSIP_NS}}}NOTETYPE": "SOFTWARE VERSION"}).text = info.version
    office = ET.SubElement(header, _m("agent"), {"ROLE": "ARCHIVIST", "TYPE": "ORGANIZATION"})
    ET.SubElement(office, _m("name")).text = info.office
    ET.SubElement(office, _m("note"), {f"{{{CSIP_NS}}}NOTETYPE": "IDENTIFICATIONCODE"}).text = info.office
    return mets


def _file(parent: ET.Element, file_id: str, href: str, data: bytes, mime: str, info: PackageInfo) -> None:
    entry = ET.SubElement(parent, _m("file"), {
        "ID": file_id, "MIMETYPE": mime, "SIZE": str(len(data)), "CREATED": _when(info),
        "CHECKSUM": hashlib.sha256(data).hexdigest().upper(), "CHECKSUMTYPE": "SHA-256"})
    ET.SubElement(entry, _m("FLocat"), {"LOCTYPE": "URL", f"{{{XLINK_NS}}}type": "simple",
                                         f"{{{XLINK_NS}}}href": href})


def _md_ref(parent: ET.Element, href: str, data: bytes, md_type: str, info: PackageInfo) -> None:
    ET.SubElement(parent, _m("mdRef"), {
        "LOCTYPE": "URL", f"{{{XLINK_NS}}}type": "simple", f"{{{XLINK_NS}}}href": href, "MDTYPE": md_type,
        "MIMETYPE": "text/xml", "SIZE": str(len(data)), "CREATED": _when(info),
        "CHECKSUM": hashlib.sha256(data).hexdigest().upper(), "CHECKSUMTYPE": "SHA-256"})


def _root_mets(record: Record, info: PackageInfo, *, dc: bytes, premis: bytes, rep_mets: bytes, readme: bytes,
               schemas: list[tuple[str, bytes]]) -> ET.Element:
    mets = _mets(info, record.registry_number, info.package_id)
    dmd = ET.SubElement(mets, _m("dmdSec"), {"ID": "dmd-dc", "CREATED": _when(info), "STATUS": "CURRENT"})
    _md_ref(dmd, "metadata/descriptive/dc.xml", dc, "DC", info)
    amd = ET.SubElement(mets, _m("amdSec"), {"ID": "amd-1"})
    digiprov = ET.SubElement(amd, _m("digiprovMD"), {"ID": "digiprov-premis", "CREATED": _when(info),
                                                     "STATUS": "CURRENT"})
    _md_ref(digiprov, "metadata/preservation/premis.xml", premis, "PREMIS", info)
    file_sec = ET.SubElement(mets, _m("fileSec"), {"ID": "filesec-1"})
    docs = ET.SubElement(file_sec, _m("fileGrp"), {"ID": "filegrp-documentation", "USE": "Documentation",
                                                  **_OTHER_CONTENT})
    _file(docs, "file-readme", f"documentation/{README}", readme, "text/plain", info)
    schema_group = ET.SubElement(file_sec, _m("fileGrp"), {"ID": "filegrp-schemas", "USE": "Schemas",
                                                          **_OTHER_CONTENT})
    for number, (path, data) in enumerate(schemas, 1):
        _file(schema_group, f"file-schema-{number}", path, data, "application/xml", info)
    group = ET.SubElement(file_sec, _m("fileGrp"), {"ID": "filegrp-rep1", "USE": "Representations/rep1",
                                                   **_OTHER_CONTENT})
    _file(group, "file-rep1-mets", "representations/rep1/METS.xml", rep_mets, "text/xml", info)
    struct = ET.SubElement(mets, _m("structMap"), {"ID": "structmap-1", "TYPE": "PHYSICAL", "LABEL": "CSIP"})
    top = ET.SubElement(struct, _m("div"), {"ID": "div-root", "LABEL": info.package_id})
    ET.SubElement(top, _m("div"), {"ID": "div-metadata", "LABEL": "Metadata", "DMDID": "dmd-dc",
                                   "ADMID": "digiprov-premis"})
    ET.SubElement(ET.SubElement(top, _m("div"), {"ID": "div-documentation", "LABEL": "Documentation"}),
                  _m("fptr"), {"FILEID": "filegrp-documentation"})
    schema_div = ET.SubElement(top, _m("div"), {"ID": "div-schemas", "LABEL": "Schemas"})
    ET.SubElement(schema_div, _m("fptr"), {"FILEID": "filegrp-schemas"})
    rep = ET.SubElement(top, _m("div"), {"ID": "div-rep1", "LABEL": "Representations"})
    ET.SubElement(rep, _m("mptr"), {"LOCTYPE": "URL", f"{{{XLINK_NS}}}type": "simple",
                                    f"{{{XLINK_NS}}}href": "representations/rep1/METS.xml",
                                    f"{{{XLINK_NS}}}title": "Mets file describing representation 1"})
    ET.SubElement(rep, _m("fptr"), {"FILEID": "filegrp-rep1"})
    return mets


def _rep_mets(record: Record, original: bytes, info: PackageInfo, data_name: str) -> ET.Element:
    mets = _mets(info, f"{record.registry_number} rep1", f"{info.package_id}-rep1")
    file_sec = ET.SubElement(mets, _m("fileSec"), {"ID": "filesec-rep1"})
    group = ET.SubElement(file_sec, _m("fileGrp"), {"ID": "filegrp-data", "USE": "Data", **_OTHER_CONTENT})
    _file(group, "file-original", data_name, original, record.media_type or "application/octet-stream", info)
    struct = ET.SubElement(mets, _m("structMap"), {"ID": "structmap-rep1", "TYPE": "PHYSICAL", "LABEL": "CSIP"})
    top = ET.SubElement(struct, _m("div"), {"ID": "div-rep1-root", "LABEL": f"{info.package_id}-rep1"})
    data = ET.SubElement(top, _m("div"), {"ID": "div-rep1-data", "LABEL": "Data"})
    ET.SubElement(data, _m("fptr"), {"FILEID": "file-original"})
    return mets


def _dublin_core(record: Record, info: PackageInfo) -> ET.Element:
    dc = ET.Element(f"{{{OAI_DC_NS}}}dc")

    def add(tag: str, value: str) -> None:
        if value:
            ET.SubElement(dc, f"{{{DC_NS}}}{tag}").text = value
    add("identifier", record.registry_number)
    add("identifier", record.id)
    add("title", record.title)
    add("subject", f"{record.record_class} {info.class_name}")
    add("date", (record.document_date or record.filed_at.date()).isoformat())
    add("creator", record.principal)
    for party in record.parties:
        add("contributor", party)
    add("format", record.media_type)
    add("rights", record.confidentiality.value)
    add("source", record.original_name)
    return dc


def _premis(record: Record, original: bytes, info: PackageInfo, href: str) -> ET.Element:
    def p(tag: str) -> str:
        return f"{{{PREMIS_NS}}}{tag}"

    def leaf(parent: ET.Element, tag: str, text: str) -> ET.Element:
        node = ET.SubElement(parent, p(tag))
        node.text = text
        return node
    premis = ET.Element(p("premis"), {"version": "3.0"})
    obj = ET.SubElement(premis, p("object"), {f"{{{XSI_NS}}}type": "premis:file"})
    ident = ET.SubElement(obj, p("objectIdentifier"))
    leaf(ident, "objectIdentifierType", "local")
    leaf(ident, "objectIdentifierValue", href)
    chars = ET.SubElement(obj, p("objectCharacteristics"))
    fixity = ET.SubElement(chars, p("fixity"))
    leaf(fixity, "messageDigestAlgorithm", "SHA-256")
    leaf(fixity, "messageDigest", hashlib.sha256(original).hexdigest())
    leaf(chars, "size", str(len(original)))
    fmt = ET.SubElement(ET.SubElement(chars, p("format")), p("formatDesignation"))
    leaf(fmt, "formatName", record.media_type or "application/octet-stream")
    leaf(obj, "originalName", record.original_name or "original")
    event = ET.SubElement(premis, p("event"))
    ev_id = ET.SubElement(event, p("eventIdentifier"))
    leaf(ev_id, "eventIdentifierType", "local")
    leaf(ev_id, "eventIdentifierValue", f"{info.package_id}-transfer")
    leaf(event, "eventType", "transfer")
    leaf(event, "eventDateTime", _when(info))
    leaf(ET.SubElement(event, p("eventDetailInformation")), "eventDetail",
         f"Retention ended ({info.basis}); transferred by {SOFTWARE} to an archive.")
    link = ET.SubElement(event, p("linkingAgentIdentifier"))
    leaf(link, "linkingAgentIdentifierType", "local")
    leaf(link, "linkingAgentIdentifierValue", SOFTWARE)
    agent = ET.SubElement(premis, p("agent"))
    ag_id = ET.SubElement(agent, p("agentIdentifier"))
    leaf(ag_id, "agentIdentifierType", "local")
    leaf(ag_id, "agentIdentifierValue", SOFTWARE)
    leaf(agent, "agentName", SOFTWARE)
    leaf(agent, "agentType", "software")
    return premis
