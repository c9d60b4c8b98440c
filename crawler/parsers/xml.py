"""XXE-safe XML parsing for sitemaps and feeds: recover from broken markup, never resolve entities or fetch."""

from __future__ import annotations

from lxml import etree


def parse_xml(body: bytes) -> etree._Element | None:
    """The document's root element, or None when nothing usable is there. Entities are not resolved
    and nothing is fetched from the network, so XXE and billion-laughs payloads stay inert."""
    parser = etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        load_dtd=False,
        dtd_validation=False,
    )
    try:
        root = etree.fromstring(body.lstrip(), parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    return root


def local(tag: object) -> str:
    """`{namespace}name` -> `name`; comments and processing instructions -> ''."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(tag: object) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def child(element: etree._Element, name: str, ns: str | None = None) -> etree._Element | None:
    """The first direct child with this local name (and namespace, when given)."""
    for node in element:
        if local(node.tag) == name and (ns is None or namespace(node.tag) == ns):
            return node
    return None


def children(element: etree._Element, name: str, ns: str | None = None) -> list[etree._Element]:
    return [n for n in element if local(n.tag) == name and (ns is None or namespace(n.tag) == ns)]


def text_of(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None
