"""Text of the bytes Windows programs write (captures, command output), whatever their encoding."""

import codecs


def decode(data: bytes | str) -> str:
    """Text of a capture whatever Windows wrote: UTF-16LE/BE (BOM or not), UTF-8 (BOM or not), OEM.

    Output redirected by ``cmd`` is in the OEM code page; PowerShell 5 writes UTF-16LE with a
    BOM; ``reg export`` writes UTF-16LE with a BOM. Line endings are left as they are.
    """
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith(codecs.BOM_UTF16_LE):
        return data[2:].decode("utf-16-le", errors="replace")
    if data.startswith(codecs.BOM_UTF16_BE):
        return data[2:].decode("utf-16-be", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    sample = data[:4096]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        return data.decode("utf-16-le", errors="replace")
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4:
        return data.decode("utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp437", errors="replace")
