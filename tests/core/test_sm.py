"""国密 primitives, checked against published test vectors and the OpenSSL 3 command line."""

import subprocess

import pytest
from django.test import override_settings

from yiwang.core import sm

SIGNER_OPT = ["-sigopt", "distid:1234567812345678"]


def openssl(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_sm3_standard_vectors():
    # GB/T 32905-2016, appendix A
    assert sm.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm.sm3_hex(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_sm3_hmac_matches_openssl(tmp_path):
    (tmp_path / "msg").write_bytes("一网通办".encode())
    result = openssl("dgst", "-sm3", "-hmac", "secret-key", "msg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(sm.sm3_hmac(b"secret-key", "一网通办".encode()).hex())


def test_sm2_sign_and_verify_round_trip():
    public, private = sm.sm2_generate_keypair()
    assert len(public) == 64 and len(private) == 32
    sig = sm.sm2_sign(private, public, "电子证照".encode())
    assert sig[0] == 0x30  # DER SEQUENCE
    assert sm.sm2_verify(public, "电子证照".encode(), sig)
    assert not sm.sm2_verify(public, "电子证照!".encode(), sig)
    other_public, _ = sm.sm2_generate_keypair()
    assert not sm.sm2_verify(other_public, "电子证照".encode(), sig)
    assert not sm.sm2_verify(public, "电子证照".encode(), b"\x30\x02garbage")
    # a fresh random nonce every time
    assert sm.sm2_sign(private, public, b"x") != sm.sm2_sign(private, public, b"x")


def test_openssl_verifies_our_signature(tmp_path):
    public, private = sm.sm2_generate_keypair()
    message = "河源市市场监督管理局 营业执照 91441602MA4UXY3K0X".encode()
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig.der").write_bytes(sm.sm2_sign(private, public, message))
    (tmp_path / "pub.pem").write_text(sm.public_key_pem(public))
    ok = openssl("dgst", "-sm3", "-verify", "pub.pem", *SIGNER_OPT, "-signature", "sig.der", "msg", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "Verified OK" in ok.stdout

    (tmp_path / "msg").write_bytes(message + b".")
    bad = openssl("dgst", "-sm3", "-verify", "pub.pem", *SIGNER_OPT, "-signature", "sig.der", "msg", cwd=tmp_path)
    assert bad.returncode != 0
    assert "Verification failure" in bad.stdout + bad.stderr


def test_we_verify_a_signature_made_by_openssl(tmp_path):
    assert openssl("genpkey", "-algorithm", "SM2", "-out", "key.pem", cwd=tmp_path).returncode == 0
    assert openssl("pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem", cwd=tmp_path).returncode == 0
    (tmp_path / "msg").write_bytes(b"checkpoint root")
    signed = openssl("dgst", "-sm3", "-sign", "key.pem", *SIGNER_OPT, "-out", "sig.der", "msg", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    public = sm.public_key_from_pem((tmp_path / "pub.pem").read_text())
    signature = (tmp_path / "sig.der").read_bytes()
    assert sm.sm2_verify(public, b"checkpoint root", signature)
    assert not sm.sm2_verify(public, b"checkpoint root.", signature)
    # and our PEM encoding of that key is byte-identical to OpenSSL's
    assert sm.public_key_pem(public) == (tmp_path / "pub.pem").read_text()


def test_public_key_pem_round_trip_and_refuses_other_keys():
    public, _ = sm.sm2_generate_keypair()
    pem = sm.public_key_pem(public)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert sm.public_key_from_pem(pem) == public
    with pytest.raises(ValueError):
        sm.public_key_from_pem("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ==\n-----END PUBLIC KEY-----\n")
    assert sm.key_id(public) == sm.sm3_hex(public)[:16]


def test_sm4_round_trip_random_iv_and_integrity():
    token = sm.sm4_encrypt(b"441602199005171239")
    assert sm.sm4_decrypt(token) == b"441602199005171239"
    assert sm.sm4_encrypt(b"same") != sm.sm4_encrypt(b"same")
    tampered = bytearray(token)
    tampered[20] ^= 1
    with pytest.raises(ValueError, match="integrity"):
        sm.sm4_decrypt(bytes(tampered))


def test_sm4_ciphertext_is_standard_sm4_cbc(tmp_path):
    """OpenSSL decrypts our token body: IV ‖ SM4-CBC/PKCS#7 ciphertext ‖ SM3-HMAC tag."""
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    token = sm.sm4_encrypt("身份证号 441602199005171239".encode(), key)
    iv, ciphertext = token[:16], token[16:-32]
    (tmp_path / "c.bin").write_bytes(ciphertext)
    result = subprocess.run(
        ["openssl", "enc", "-d", "-sm4-cbc", "-K", key.hex(), "-iv", iv.hex(), "-in", "c.bin"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == "身份证号 441602199005171239"


def test_blind_index_is_keyed_deterministic_and_purpose_bound():
    a = sm.blind_index("441602199005171239")
    assert a == sm.blind_index("441602199005171239")
    assert a != sm.blind_index("441602199005171239", purpose="phone")
    assert a != sm.sm3_hex(b"441602199005171239")
    assert len(a) == 64


def test_configured_kek_is_used_and_checked():
    sm.kek.cache_clear()
    try:
        with override_settings(YIWANG_KEK="00112233445566778899aabbccddeeff"):
            assert sm.kek() == bytes.fromhex("00112233445566778899aabbccddeeff")
            index_a = sm.blind_index("x")
        sm.kek.cache_clear()
        with override_settings(YIWANG_KEK="0011"), pytest.raises(ValueError, match="32 hexadecimal"):
            sm.kek()
        sm.kek.cache_clear()
        assert sm.blind_index("x") != index_a  # the development key differs
    finally:
        sm.kek.cache_clear()
