"""国密 primitives: SM3 digests, SM2 signatures (GB/T 32918, DER, signer ID 1234567812345678), SM4.

SM2 comes from GmSSL 3 through gmssl-pyx (C, a cryptographic nonce); SM3/SM4 from `cryptography`.
Public keys travel as PEM SubjectPublicKeyInfo so that OpenSSL 3 verifies our signatures with
``openssl dgst -sm3 -verify pub.pem -sigopt distid:1234567812345678 -signature sig.der data``.
"""

from __future__ import annotations

import base64
import hmac
import os
from functools import lru_cache

import gmssl_pyx
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.signals import setting_changed

SIGNER_ID = b"1234567812345678"

# DER prefix of SubjectPublicKeyInfo { ecPublicKey, curve SM2 (1.2.156.10197.1.301) } + BIT STRING header
_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")


def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def sm3_hex(data: bytes) -> str:
    return sm3(data).hex()


def sm3_hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, lambda: _HashlibSM3()).digest()


class _HashlibSM3:
    """Minimal hashlib-style wrapper so that the stdlib hmac module can use SM3."""

    digest_size = 32
    block_size = 64
    name = "sm3"

    def __init__(self, data: bytes = b""):
        self._h = hashes.Hash(hashes.SM3())
        if data:
            self._h.update(data)

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def copy(self) -> _HashlibSM3:
        c = _HashlibSM3.__new__(_HashlibSM3)
        c._h = self._h.copy()
        return c

    def digest(self) -> bytes:
        return self._h.copy().finalize()


# --- SM2 --------------------------------------------------------------------------------------


def sm2_generate_keypair() -> tuple[bytes, bytes]:
    """Return (public 64 bytes X||Y, private 32 bytes)."""
    public, private = gmssl_pyx.sm2_key_generate()
    return public, private


# SM2 curve parameters a, b, Gx, Gy (GB/T 32918.5): the fixed part of Z
_CURVE = bytes.fromhex(
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
)


@lru_cache(maxsize=512)
def z_value(public_key: bytes) -> bytes:
    """Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) for the standard signer ID.

    Z depends only on the key, so it is computed once per key; signing the digest SM3(Z ‖ message)
    directly is about ten times faster than ``gmssl_pyx.sm2_sign``, which recomputes Z every call,
    and gives the same signatures.
    """
    return sm3((len(SIGNER_ID) * 8).to_bytes(2, "big") + SIGNER_ID + _CURVE + public_key)


def sm2_sign(private_key: bytes, public_key: bytes, message: bytes) -> bytes:
    """DER signature over SM3(Z || message), Z computed with the standard signer ID."""
    return gmssl_pyx.sm2_sign_sm3_digest(private_key, sm3(z_value(public_key) + message))


def sm2_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        return bool(gmssl_pyx.sm2_verify_sm3_digest(public_key, sm3(z_value(public_key) + message), signature))
    except (gmssl_pyx.GmsslInnerError, ValueError, TypeError):
        return False


def public_key_pem(public_key: bytes) -> str:
    der = _SPKI_PREFIX + public_key
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def public_key_from_pem(pem: str) -> bytes:
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body)
    if not der.startswith(_SPKI_PREFIX) or len(der) != len(_SPKI_PREFIX) + 64:
        raise ValueError("not an SM2 public key")
    return der[len(_SPKI_PREFIX) :]


def key_id(public_key: bytes) -> str:
    """A short, stable key identifier: the first 16 hex digits of SM3(public key)."""
    return sm3_hex(public_key)[:16]


# --- SM4 at-rest encryption ---------------------------------------------------------------------


def _hex_key(value: str, name: str) -> bytes:
    key = bytes.fromhex(value)
    if len(key) != 16:
        raise ValueError(f"{name} must be 32 hexadecimal characters (16 bytes)")
    return key


@lru_cache(maxsize=1)
def kek() -> bytes:
    """The 16-byte key-encryption key: YIWANG_KEK (hex) in production, derived from SECRET_KEY in dev."""
    configured = getattr(settings, "YIWANG_KEK", "")
    if configured:
        return _hex_key(configured, "YIWANG_KEK")
    return sm3(b"yiwang-dev-kek:" + settings.SECRET_KEY.encode())[:16]


@lru_cache(maxsize=1)
def previous_keks() -> tuple[bytes, ...]:
    """Keys being rotated away from (YIWANG_KEK_PREVIOUS, comma-separated hex): read, never written.
    ``yiwang rotate-keys`` re-encrypts everything under ``kek()``; then they can be removed."""
    configured = getattr(settings, "YIWANG_KEK_PREVIOUS", "")
    return tuple(_hex_key(v.strip(), "YIWANG_KEK_PREVIOUS") for v in configured.split(",") if v.strip())


@lru_cache(maxsize=1)
def index_key() -> bytes:
    """The key of the blind indexes: YIWANG_INDEX_KEY, else the KEK. It is kept apart so that rotating
    the KEK re-encrypts the columns without changing any digest (lookups work throughout)."""
    configured = getattr(settings, "YIWANG_INDEX_KEY", "")
    if configured:
        return _hex_key(configured, "YIWANG_INDEX_KEY")
    if previous_keks():  # the KEK is changing: its digests would change with it and no lookup would match
        raise ValueError("YIWANG_INDEX_KEY must be set (to the previous YIWANG_KEK) while YIWANG_KEK_PREVIOUS is")
    return kek()


def clear_key_caches(**kwargs) -> None:
    """Forget the keys read from the settings (after they changed: tests, a rotation)."""
    if kwargs.get("setting", "YIWANG_KEK") in {"YIWANG_KEK", "YIWANG_KEK_PREVIOUS", "YIWANG_INDEX_KEY", "SECRET_KEY"}:
        for cached in (kek, previous_keks, index_key):
            cached.cache_clear()


setting_changed.connect(clear_key_caches)


def sm4_encrypt(plaintext: bytes, key: bytes | None = None) -> bytes:
    """SM4-CBC with PKCS#7 padding and a random IV in front; integrity by an SM3-HMAC at the end."""
    key = key or kek()
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    body = iv + enc.update(data) + enc.finalize()
    return body + sm3_hmac(key, body)


def is_under_current_key(token: bytes) -> bool:
    """Whether ``token`` was encrypted under ``kek()`` (its SM3-HMAC says so; nothing is decrypted)."""
    body, tag = token[:-32], token[-32:]
    return hmac.compare_digest(tag, sm3_hmac(kek(), body))


def sm4_decrypt(token: bytes, key: bytes | None = None) -> bytes:
    """Decrypt with ``key``, or else with the current KEK or one being rotated away from: the SM3-HMAC
    tells which key a token was made with, so a table half-way through a rotation reads whole."""
    body, tag = token[:-32], token[-32:]
    for candidate in (key,) if key else (kek(), *previous_keks()):
        if hmac.compare_digest(tag, sm3_hmac(candidate, body)):
            break
    else:
        raise ValueError("ciphertext integrity check failed")
    iv, data = body[:16], body[16:]
    dec = Cipher(algorithms.SM4(candidate), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(dec.update(data) + dec.finalize()) + unpadder.finalize()


def blind_index(value: str, purpose: str = "id") -> str:
    """Deterministic keyed digest so that an encrypted value can still be looked up by equality."""
    return sm3_hmac(index_key() + purpose.encode(), value.encode()).hex()
