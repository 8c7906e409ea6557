"""Text preparation shared by the text training scripts. It mirrors what the plugins do in Java
before a text reaches ONNX Runtime (dev.mlserver.api.input.Text#forNative), so a model is trained
on exactly the strings it will be served."""


def for_native(text):
    """Replaces what ONNX Runtime's native string handling cannot take with a space: control
    characters other than tab, newline and carriage return, lone surrogates, and code points
    beyond U+FFFF (one space per code point, as Java replaces a surrogate pair by one space)."""
    out = []
    for ch in text:
        cp = ord(ch)
        control = cp < 0x20 or 0x7F <= cp <= 0x9F
        if (control and ch not in "\t\n\r") or 0xD800 <= cp <= 0xDFFF or cp > 0xFFFF:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)
