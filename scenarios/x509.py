"""Just enough DER to read an X.509 certificate's serial number, subject CN and public key size.

TC_086_CSMS checks the server certificate ("must include a serial number", "commonName ... FQDN",
"RSA ... at least 2048 bits", "elliptic curve ... at least 224 bits"); the standard library
hands us the DER bytes but does not parse the key.
"""

from __future__ import annotations

from dataclasses import dataclass

OID_RSA = "1.2.840.113549.1.1.1"
OID_EC = "1.2.840.10045.2.1"
OID_DSA = "1.2.840.10040.4.1"
OID_CN = "2.5.4.3"
CURVE_BITS = {
    "1.2.840.10045.3.1.7": 256,  # prime256v1 / secp256r1
    "1.3.132.0.34": 384,  # secp384r1
    "1.3.132.0.35": 521,  # secp521r1
    "1.3.132.0.33": 224,  # secp224r1
    "1.3.132.0.10": 256,  # secp256k1
    "1.3.36.3.3.2.8.1.1.7": 256,  # brainpoolP256r1
    "1.3.36.3.3.2.8.1.1.11": 384,  # brainpoolP384r1
    "1.3.36.3.3.2.8.1.1.13": 512,  # brainpoolP512r1
}


class DerError(ValueError):
    pass


@dataclass
class Tlv:
    tag: int
    value: bytes
    end: int


def _read(data: bytes, pos: int) -> Tlv:
    if pos + 2 > len(data):
        raise DerError("truncated")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise DerError("truncated value")
    return Tlv(tag, data[pos : pos + length], pos + length)


def _children(value: bytes) -> list[Tlv]:
    out = []
    pos = 0
    while pos < len(value):
        tlv = _read(value, pos)
        out.append(tlv)
        pos = tlv.end
    return out


def _oid(value: bytes) -> str:
    if not value:
        raise DerError("empty OID")
    parts = [value[0] // 40, value[0] % 40]
    number = 0
    for byte in value[1:]:
        number = (number << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(number)
            number = 0
    return ".".join(str(p) for p in parts)


@dataclass
class CertInfo:
    serial: int | None
    common_names: list[str]
    key_type: str
    """``RSA``, ``EC``, ``DSA`` or the algorithm OID."""
    key_bits: int


def parse_certificate(der: bytes) -> CertInfo:
    """Serial, subject CNs and key size of a DER certificate; raises DerError when unreadable."""
    cert = _read(der, 0)
    if cert.tag != 0x30:
        raise DerError("not a SEQUENCE")
    tbs = _children(cert.value)[0]
    fields = _children(tbs.value)
    index = 1 if fields and fields[0].tag == 0xA0 else 0  # [0] version
    serial_tlv = fields[index]
    serial = int.from_bytes(serial_tlv.value, "big", signed=True) if serial_tlv.tag == 0x02 else None
    subject = fields[index + 4]
    spki = fields[index + 5]
    names: list[str] = []
    for rdn in _children(subject.value):
        for attribute in _children(rdn.value):
            parts = _children(attribute.value)
            if len(parts) == 2 and parts[0].tag == 0x06 and _oid(parts[0].value) == OID_CN:
                names.append(parts[1].value.decode("utf-8", "replace"))
    algorithm, key = _children(spki.value)
    alg_parts = _children(algorithm.value)
    alg_oid = _oid(alg_parts[0].value)
    bits_value = key.value[1:]  # BIT STRING: first byte = unused bits
    if alg_oid == OID_RSA:
        modulus = _children(_read(bits_value, 0).value)[0].value
        return CertInfo(serial, names, "RSA", int.from_bytes(modulus, "big").bit_length())
    if alg_oid == OID_EC:
        curve = _oid(alg_parts[1].value) if len(alg_parts) > 1 and alg_parts[1].tag == 0x06 else ""
        bits = CURVE_BITS.get(curve) or ((len(bits_value) - 1) // 2) * 8
        return CertInfo(serial, names, "EC", bits)
    if alg_oid == OID_DSA:
        params = _children(alg_parts[1].value) if len(alg_parts) > 1 else []
        prime = params[0].value if params else b""
        return CertInfo(serial, names, "DSA", int.from_bytes(prime, "big").bit_length())
    return CertInfo(serial, names, alg_oid, 0)
