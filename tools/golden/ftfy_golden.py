"""Reference outputs of ftfy.fix_text (ftfy 6.3.1, default configuration) for the Java port
ai.promptline.ml.clip.Ftfy, plus CLIP token ids (openai/CLIP simple_tokenizer: ftfy, html.unescape
twice, whitespace, lower-case, BPE) for a subset, and ftfy.badness.is_bad for short strings.

Corpus (fixed seeds): every class name and template of prompts.md; prompts dressed with non-ASCII
text (accents, curly quotes, dashes, Greek, Cyrillic, CJK, emoji); those turned into mojibake
(UTF-8 bytes read as Latin-1, sloppy/strict Windows-125x, ISO-8859-2, MacRoman, CP437, twice,
with U+A0 turned into a space, with lost bytes, only partly); hand-written cases for every fixer;
random strings. Writes ml/src/test/resources/golden/clip/ftfy_golden.json.gz.

Run: .venv/bin/python tools/golden/ftfy_golden.py
"""
import gzip
import importlib.util
import json
import os
import random

import ftfy
from ftfy.badness import MOJIBAKE_CATEGORIES, is_bad

assert ftfy.__version__ == "6.3.1", ftfy.__version__

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "ml", "src", "test", "resources", "golden", "clip", "ftfy_golden.json.gz")


def load_clip_golden():
    spec = importlib.util.spec_from_file_location("clip_golden", os.path.join(HERE, "clip_golden.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


PHRASES = [
    "café crème brûlée", "naïve façade", "jalapeño piñata", "Zürich Straße", "smörgåsbord",
    "São Paulo àquele", "à la carte", "Łódź żółw", "Český Krumlov", "İstanbul ağaç", "Ελληνικά γράμματα",
    "Ρωσία Μόσχα", "Москва река", "ёлка щука", "Rīga ķēķis", "مرحبا بالعالم", "שלום עולם",
    "हिन्दी भाषा", "中文字符", "日本語のテキスト", "한국어 문장", "emoji 😀🐶🚀", "flag 🇫🇷 family 👨‍👩‍👧",
    "“quoted” ‘single’", "it’s a dog’s life", "em—dash – en", "ellipsis…", "price €5 £3 ¥7",
    "25°C ±2", "© ® ™ §", "½ cup ¼ tsp", "× ÷ µ", "bullet • point", "non\u00a0breaking space",
    "ÀÉÎÕÜ àéîõü", "Ångström", "æther Œuvre œuf", "ﬁsh ﬂower", "Ａｐｐｌｅ ｆｕｌｌｗｉｄｔｈ",
]
DRESS = ["{} café", "“{}”", "the {}’s photo", "{} — a photo", "a photo of a {}…", "{} (naïve)", "Ελλάδα {}",
         "фото {}", "{} 写真", "{} 😀", "{} °C", "{} €", "« {} »", "{}\u00a0!", "Ångström {}", "{} ½"]
ENCODINGS = ["latin-1", "sloppy-windows-1252", "windows-1252", "sloppy-windows-1251", "windows-1250",
             "sloppy-windows-1253", "sloppy-windows-1254", "windows-1257", "iso-8859-2", "macroman", "cp437"]

SPECIAL = [
    # html
    "a &amp; b", "&lt;b&gt;bold&lt;/b&gt;", "<b>tag</b> &amp; keep", "caf&eacute;", "CAF&EACUTE;", "&NTILDE;",
    "&#233;t&#xE9;", "&#128;", "&#x1F600;", "&#0;", "&#xD800;", "&#65abc;", "&#xZZ;", "&amp", "&ampx;", "&nbsp;x",
    "&notanentity;", "&amp;amp;", "&SZLIG;", "&quot;hi&quot;", "&AMP;", "&Eacute; &eacute; &EACUTE;",
    "line one &amp;\nline <two> &amp;\nline three &amp;", "first &amp;\n<second>", "a &lt; b\nc &gt; d",
    "&#10;", "&#13;", "&#x0;", "&#1114112;", "&verylongentitynamethatisnotreal;",
    # terminal escapes
    "\x1b[31mred\x1b[0m text", "\x1b[1;32;40mbold\x1b[m", "\x1b[Kclear", "\x1b]not csi", "esc \x1b alone",
    # C1 and controls
    "\x80", "caf\x82e", "\x93quoted\x94", "\x85ellipsis", "\x81\x8d\x8f\x90\x9d", "tab\there", "nul\x00byte",
    "bell\x07", "vt\x0bff\x0c", "del\x7f", "\ufeffbom start", "zero\u200bwidth", "\u206aformat\u206f",
    "\ufff9anchor\ufffb", "\ufffc obj", "\ufffd replacement", "sub\x1achar",
    # line breaks
    "a\r\nb", "a\rb", "a\u2028b", "a\u2029b", "a\x85b", "a\n\nb\n", "\r\n\r\n", "end\r",
    # normalization
    "cafe\u0301", "A\u030a", "n\u0303o", "\u1e9b\u0323", "\u212b", "\u0041\u0300\u0301", "ﬁ\u0301",
    # ligatures and width
    "ﬁne ﬂow ﬀ ﬃ ﬄ ﬅ ﬆ", "Ĳssel ĳs", "Ǆ ǅ ǆ Ǉ ǈ ǉ Ǌ ǋ ǌ Ǳ ǲ ǳ", "ŉ", "ＡＢＣ１２３！？", "ｶﾀｶﾅ ﾊﾟ", "全角\u3000スペース",
    "￠￡￢￣￤￥￦", "ﾠ hangul filler", "￨￩￪￫￬￭￮",
    # quotes
    "‘single’ “double” ‚low„ ‛rev‟", "ʼmodifier", "«guillemets»", "′prime″",
    # surrogates
    "\ud800", "lone \udc00 low", "pair \ud83d\ude00 split", "\udbff\udfff", "\ude00\ud83d",
    # emoji, CJK and others
    "😀", "👍🏽", "🏳️‍🌈", "漢字かなカナ", "中文 text", "한글", "ﷺ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\U000e0041 tag",
    # known mojibake samples
    "âœ” No problems", "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.", "l’humanitÃ©",
    "CÃ³mo estÃ¡s", "Ã\xa0 bientÃ´t", "Ã  bientÃ´t", "Ã quele", "Ã s vezes", "ÃƒÂ©", "Ã©",
    "â€œmismatched quotes…”", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "ÐŸÑ€Ð¸Ð²ÐµÑ‚", "Ø§Ù„Ø¹Ø±Ø¨ÙŠØ©", "Î•Î»Î»Î·Î½Î¹ÎºÎ¬",
    "ì•ˆë…•í•˜ì„¸ìš”", "ä¸\xadæ–‡", "ä¸­æ–‡", "æ—¥æœ¬èªž", "ðŸ˜€", "ðŸ™‚ smile", "Ã¢â‚¬Å“quoteÃ¢â‚¬Â",
    "â€™", "caf\u00c3\u00a9 au lait", "cafÃ©", "crÃ¨me brÃ»lÃ©e", "Ã¼ber", "Ã¤Ã¶Ã¼", "ÃŸ",
    "Ã", "Â", "Â£5", "5Â°C", "Â\xa0", "a Â b", "×²", "Ã\xa0", "pi√±ata", "caf√©", "‚Äúquote‚Äù",
    "вЂњquoteвЂќ", "Р С—РЎР‚Р С‘", "ГўВЂВњhello", "Ã¢â‚¬", "Ã¢â‚¬\x9d", "ÃƒÂ¢Ã¢â€šÂ¬Ã…â€œ",
    "Ã©\ufffd", "Ã\x1a", "â€\ufffd", "â\ufffd\ufffd", "Ã?", "ðŸ\ufffd\ufffd", "í ½í¸€", "Ã\x80",
    "├й├и", "Ð\xa0Ð°Ð·", "Î²â‚¬â„¢", "ā€™", "Ö”", "Ã¶ÃŸ", "This is “quoted” ÃƒÂ©",
    "Hello world, ÃƒÂ©tÃƒÂ© ÃƒÂ©tÃƒÂ©", "normal café and mojibake cafÃ© together",
    "ÂżQuÃ© tal?", "Ã\u0081", "Ã\u2018", "Ã©Ã©Ã©Ã©Ã©Ã©Ã©Ã©", "Ã‰", "Ã‰tÃ©", "dÃ©jÃ\xa0 vu", "dÃ©jÃ  vu",
    "ÃƒÆ’Ã‚Â©", "â\u0080\u0099", "\u00e2\u0080\u009cquoted\u00e2\u0080\u009d", "\u00c3\u00a9\u00c3",
    "Ã\u00a9\n\u00c3\u00a9\nplain", "<p>cafÃ©</p>", "â”€â”€", "â• â•",
    # whitespace
    "  padded  ", "\t\ttabs\t", "\u3000ideographic\u3000", "\u00a0nbsp\u00a0", "", " ", "\n",
]


def mojibake(s, enc, rng):
    b = s.encode("utf-8")
    if enc == "windows-1252" or enc == "windows-1250" or enc == "windows-1257":
        return b.decode(enc, errors="replace")
    return b.decode(enc)


def random_strings(rng):
    pools = [
        [chr(c) for c in range(0x20, 0x7F)],
        [chr(c) for c in range(0x00, 0x20)] + ["\x7f", "\r\n", "\u2028", "\u2029"],
        [chr(c) for c in range(0x80, 0xA0)],
        [chr(c) for c in range(0xA0, 0x180)],
        [chr(c) for c in range(0x370, 0x3D0)] + [chr(c) for c in range(0x400, 0x460)],
        [c for v in MOJIBAKE_CATEGORIES.values() for c in v if c != "-"],
        [chr(c) for c in range(0x2500, 0x25A0)] + [chr(c) for c in range(0x2000, 0x2070)],
        [chr(c) for c in range(0x300, 0x370)],
        [chr(c) for c in range(0x4E00, 0x4F00)] + [chr(c) for c in range(0x3040, 0x30A0)] + [chr(c) for c in range(0xAC00, 0xAD00)],
        [chr(c) for c in range(0xFF00, 0xFFF0)] + ["\u3000", "\ufeff", "\ufff9", "\ufffa", "\ufffb", "\ufffc", "\ufffd"],
        [chr(c) for c in range(0x1F300, 0x1F700)] + ["\ufb01", "\ufb02", "\u0132", "\u01c4"],
        ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00"],
        ["&amp;", "&eacute;", "&#x41;", "&EACUTE;", "&#128;", "<", "&", ";", "#", "\x1b[", "\x1b[0m", "m"],
    ]
    out = []
    for _ in range(300):
        n = rng.randint(1, 12)
        k = rng.sample(range(len(pools)), rng.randint(1, 3))
        out.append("".join(rng.choice(pools[rng.choice(k)]) for _ in range(n)))
    for _ in range(60):  # any code point
        n = rng.randint(1, 6)
        out.append("".join(chr(rng.randrange(0x110000)) for _ in range(n)))
    return out


def random_mojibake(rng, texts):
    out = []
    safe = [t for t in texts if all(not 0xD800 <= ord(c) < 0xE000 for c in t)]
    for _ in range(120):
        s = rng.choice(safe)
        enc = rng.choice(ENCODINGS)
        out.append(mojibake(s, enc, rng))
    return out


def bad_probe_strings(rng):
    alphabet = sorted({c for v in MOJIBAKE_CATEGORIES.values() for c in v if c != "-"})
    alphabet += list("aZ .,?!_1") + ["\u00a0", "\u00b0", "\u00d7", "\u00b2", "\u03b2", "\u20ac", "\u0101",
                                      "\u0412", "\u0413", "\u045e", "\u0402", "\u0432", "\u221a", "\u2248",
                                      "\u201a", "\u00c4", "\u0392", "\u039e", "\u0152", "\u0153", "\u00e9"]
    out = set()
    while len(out) < 3000:
        out.add("".join(rng.choice(alphabet) for _ in range(rng.randint(2, 4))))
    return sorted(out)


def main():
    cg = load_clip_golden()
    tok = cg.Tokenizer()
    rng = random.Random(20240607)
    sets = cg.prompt_sets()
    classes, templates = [], []
    for _, cs, ts in sets:
        classes += [c for c in cs if c not in classes]
        templates += [t for t in ts if t not in templates]
    prompts = sorted({t.format(c) for _, cs, ts in sets for t in ts for c in cs})

    cases = []  # (kind, text)
    cases += [("class", c) for c in classes]
    cases += [("template", t) for t in templates]
    dressed = list(PHRASES)
    for p in rng.sample(prompts, 150):
        dressed.append(rng.choice(DRESS).format(p))
    for p in rng.sample(classes, 40):
        dressed.append(p.replace("e", "é").replace("a", "à").replace("'", "’"))
    cases += [("dressed", s) for s in dressed]
    for s in dressed:
        enc = rng.choice(ENCODINGS)
        cases.append(("mojibake:" + enc, mojibake(s, enc, rng)))
    for s in PHRASES:
        for enc in ENCODINGS:
            cases.append(("mojibake:" + enc, mojibake(s, enc, rng)))
        twice = s.encode("utf-8").decode("sloppy-windows-1252")
        cases.append(("mojibake:double", twice.encode("utf-8").decode("sloppy-windows-1252")))
        cases.append(("mojibake:nbsp-as-space", twice.replace("\u00a0", " ")))
        cases.append(("mojibake:lossy", s.encode("utf-8").decode("windows-1252", errors="replace")
                      .replace("\ufffd", "?" if rng.random() < 0.5 else "\ufffd")))
        cases.append(("mojibake:partial", s + " " + twice))
        cases.append(("mojibake:latin1-c1", s.encode("utf-8").decode("latin-1")))
    cases += [("special", s) for s in SPECIAL]
    randoms = random_strings(rng)
    cases += [("random", s) for s in randoms]
    cases += [("random-mojibake", s) for s in random_mojibake(rng, dressed + PHRASES + randoms)]

    seen, uniq = set(), []
    for kind, s in cases:
        if s not in seen:
            seen.add(s)
            uniq.append((kind, s))
    rows = []
    for i, (kind, s) in enumerate(uniq):
        row = [kind, s, ftfy.fix_text(s)]
        # reference ids for everything but the plain class names / templates (tokenizer_golden has those)
        if kind not in ("class", "template") or i % 50 == 0:
            row.append(tok.encode(s))
        rows.append(row)
    probes = bad_probe_strings(rng)
    bad = [[s, is_bad(s)] for s in probes]
    doc = {"ftfy": ftfy.__version__, "cases": rows, "isBad": bad}
    with gzip.GzipFile(OUT, "wb", mtime=0) as f:
        f.write(json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode("ascii"))
    changed = sum(1 for r in rows if r[1] != r[2])
    print("wrote %s: %d cases (%d changed by ftfy, %d with ids), %d is_bad probes (%d bad), %d bytes"
          % (OUT, len(rows), changed, sum(1 for r in rows if len(r) > 3), len(bad), sum(b for _, b in bad),
             os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
