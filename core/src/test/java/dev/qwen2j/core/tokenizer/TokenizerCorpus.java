package dev.qwen2j.core.tokenizer;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Texts that exercise every branch of the Qwen2 tokenizer, built in code (seeded where random). Public for
 * the tokenizer benchmark in module jmh.
 */
public final class TokenizerCorpus {

    private TokenizerCorpus() {
    }

    /** Named texts without lone surrogates. */
    public static Map<String, String> cases() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("empty", "");
        c.put("prose", "The quick brown fox jumps over the lazy dog. It wasn't me, she said; \"really?\" -- yes!\n"
                + "Dr. Smith's 3rd report (2024) cost $1,234.56 — about 12% more than last year's.");
        c.put("contractions upper case", "I'M SURE YOU'LL SEE IT'S THEIR'S. WE'VE, THEY'RE, HE'D, Don'T, can'T, 'S 'T 'Re 'LL 'D 'M 'Ve 'x 'ſ");
        // A contraction followed by more letters: the contraction rule takes the first two or three characters,
        // where the letters rule alone would take the whole word.
        c.put("contractions before letters", "'stop 'tea 'reach 'vex 'mine 'llama 'dog I'mok you'llbe she'dgo we'reall "
                + "THEY'VEGONE it'sx 'Sam 'TOM 'REd 'LLx 'VEry 'Dz 'Mz");
        // The lengths of UTF-8 at their edges, and code points from plane 4 up (the 4-byte lead byte's high bits).
        c.put("utf-8 lengths", "\u007F|\u0080|\u07FF|\u0800|\uFFFD|\uD800\uDC00|\uDB40\uDC67\uDB40\uDC62|\uDB40\uDD00"
                + "|\uDBBF\uDFFD|\uDBFF\uDFFD a\u0080b");
        // Pieces longer than the BPE workspace's first 64 symbols, so that it grows.
        c.put("long pieces", "Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(4) + " " + "=".repeat(100) + " "
                + "我们今天去公园散步天气非常好日本語のテキストも混ぜます".repeat(3) + " " + "\uD83D\uDE00".repeat(30));
        // U+0300 alone is the first character that can change under NFC: e + grave composes to è.
        c.put("grave accent alone", "e\u0300 la\u0300 fin");
        c.put("code", "public static int add(int a, int b) {\n\treturn a + b;\n}\n\n"
                + "def f(x):\n    if x > 0:\n        return [i**2 for i in range(x)]  # squares\n    return None\n"
                + "\t\t\tif (a&&b||!c) { x += 0x1F; y <<= 2; }\n");
        c.put("whitespace runs", "a  b   c    d\t\te\n\nf\n\n\n   g   \n \n  \t h\r\n\r\ni          j               \n"
                + "    \n\t\n    trailing    ");
        c.put("only spaces", "     ");
        c.put("only newlines", "\n\n\n");
        c.put("numbers", "0 1 12 123 1234 12345 3.14159 -42 1e10 1,000,000 ٣٤٥ ४५६ ½ ² Ⅻ 2024-11-23T21:30:00Z");
        c.put("cjk", "我们今天去公园散步，天气非常好。日本語のテキストも混ぜます。한국어 문장도 있습니다。「引用」と『二重』");
        c.put("arabic", "مرحبا بالعالم! هذا نص عربي مع أرقام ١٢٣ وعلامات ترقيم؟");
        c.put("devanagari", "नमस्ते दुनिया। यह एक हिंदी वाक्य है, जिसमें संयुक्ताक्षर क्ष त्र ज्ञ हैं।");
        c.put("emoji", "Hi 👋🏽 family: 👨‍👩‍👧‍👦 flags 🇯🇵🇺🇸 heart ❤️ thumbs 👍🏿👍🏻 rainbow 🏳️‍🌈 done✅");
        c.put("combining marks", "e\u0301 a\u0308 n\u0303 A\u030A o\u0302\u0323 \u1100\u1161\u11A8 cafe\u0301 Ame\u0301lie q\u0307\u0323");
        c.put("fullwidth", "ＡＢＣ ａｂｃ １２３ ！？＃ ｶﾀｶﾅ　全角スペース　Ｈｅｌｌｏ，　Ｗｏｒｌｄ！");
        c.put("special tokens", "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\nhmm</think> ok<|endoftext|><tool_call>{}</tool_call>");
        c.put("special tokens adjacent", "<|im_end|><|im_end|>x<|endoftext|> <|im_start|>  <|im_end|>\n\n");
        c.put("look-alike special tokens", "<|im_start |> <| im_end|> <|im_end| > <im_end> |im_end|> <|IM_END|> "
                + "<|im_en|> <<|im_end|>> <|endoftext <|endoftext|| <think >");
        c.put("punctuation runs", "!!! ??? ... --- ___ *** ### @@@ \"'\" ''' ``` ~~~ !?\n!?\r\n.\n\n:)");
        c.put("mixed scripts", "Hello世界Привет мир Γειά σου κόσμε שלום עולם สวัสดีชาวโลก");
        c.put("unicode spaces", "a\u00A0b\u2009c\u3000d\u202Fe\u205Ff\u2028g\u2029h\u0085i\u1680j\u000Bk\u000Cl \u00A0 m");
        c.put("control chars", "a\u0000b\u0001c\u007Fd\u200Be\u200Df\uFEFFg");
        return c;
    }

    /** About 1 MB of mixed text. */
    public static String oneMegabyte() {
        StringBuilder sb = new StringBuilder(1 << 20);
        String[] parts = cases().values().toArray(String[]::new);
        SplittableRandom random = new SplittableRandom(7);
        while (sb.length() < (1 << 20)) {
            sb.append(parts[random.nextInt(parts.length)]).append(random.nextBoolean() ? " " : "\n");
            if (random.nextInt(10) == 0) {
                sb.append(randomText(random, 200));
            }
        }
        return sb.toString();
    }

    /** Unicode blocks random text is drawn from: {first, last} code points. */
    private static final int[][] BLOCKS = {
            {0x20, 0x7E}, {0xA0, 0xFF}, {0x100, 0x17F}, {0x300, 0x36F}, {0x370, 0x3FF}, {0x400, 0x4FF},
            {0x590, 0x5FF}, {0x600, 0x6FF}, {0x900, 0x97F}, {0xE00, 0xE7F}, {0x1100, 0x11FF},
            {0x2000, 0x206F}, {0x2100, 0x214F}, {0x2190, 0x21FF}, {0x2200, 0x22FF}, {0x3000, 0x303F},
            {0x3040, 0x30FF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xFF00, 0xFFEF}, {0x1F300, 0x1F64F},
            {0x1F900, 0x1F9FF}, {0x1D400, 0x1D7FF}, {0x10000, 0x1007F},
    };

    /** Random text from a few blocks, with spaces, newlines, digits and apostrophes sprinkled in. */
    public static String randomText(SplittableRandom random, int maxLength) {
        int length = random.nextInt(maxLength + 1);
        int[] blocks = {random.nextInt(BLOCKS.length), random.nextInt(BLOCKS.length), random.nextInt(BLOCKS.length)};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            int roll = random.nextInt(20);
            if (roll == 0) {
                sb.append(" \n\t'\r".charAt(random.nextInt(5)));
            } else if (roll == 1) {
                sb.append(' ');
            } else {
                int[] block = BLOCKS[blocks[random.nextInt(blocks.length)]];
                int cp = block[0] + random.nextInt(block[1] - block[0] + 1);
                if (Character.isDefined(cp) && !Character.isSurrogate((char) cp) && Character.getType(cp) != Character.PRIVATE_USE) {
                    sb.appendCodePoint(cp);
                }
            }
        }
        return sb.toString();
    }
}
