"""Decode scraped files whose encoding nobody declared: UTF-8, GB18030/GBK or Big5.

Every candidate codec is tried strictly; when more than one succeeds (GBK bytes are often valid Big5
and vice versa) the text with the larger share of common Chinese characters wins. Off-the-shelf
detectors were not good enough here: on short Chinese snippets they read GBK as Big5 or CP949.
Text with a few stray bad bytes is kept (U+FFFD plus a warning); binary data is refused.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MAX_FILE_BYTES = 5 * 1024 * 1024  # ~1.7M Chinese characters; larger files are rejected
"""Largest .txt/.md/.html file that is read (checked before reading it); larger ones are rejected."""

MAX_LINE_CHARS = 5_000_000
"""Largest JSONL record, in decoded characters. Lines are read with a byte bound of ``MAX_LINE_BYTES``
first, so a huge line never sits in memory whole."""

MAX_LINE_BYTES = MAX_FILE_BYTES
"""Byte bound for one JSONL line (the same as for a whole text file)."""

SNIFF_BYTES = 64 * 1024
"""How much of a JSONL file is used to guess its encoding (and of any file to spot binary data)."""
SCORE_CHARS = 20_000
"""How many non-ASCII characters of a candidate decoding are scored for plausibility."""

# Tried in this order; the first one wins a tie in plausibility.
CANDIDATES = ("utf-8", "gb18030", "cp950", "big5hkscs")

# Most bad text is not this bad: above this share of undecodable sequences a decoding is not trusted.
MAX_BAD_SHARE = 0.02
MAX_CONTROL_SHARE = 0.05
# Chinese text scores about 0.95 (see plausibility). A clean decoding of 20+ non-ASCII characters
# scoring below this is probably another East Asian encoding (Shift-JIS, EUC-KR), so charset-normalizer
# is asked; text with bad bytes is only kept when its best reading scores at least this.
MIN_CHINESE_SCORE = 0.5

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or docx/xlsx)"),
    (b"\x7fELF", "an ELF executable"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7z archive"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
)
# Control bytes that plain text does not contain (tab, newlines, form feed, ESC are allowed).
_CONTROL = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])

# Roughly the most frequent Chinese characters in modern news text (Simplified; Traditional forms are
# added at first use). Correctly decoded Chinese is mostly made of these; mis-decoded bytes are not.
_COMMON = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作"
    "里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从"
    "想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头"
    "文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提"
    "立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务"
    "做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像"
    "难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导"
    "争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗"
    "字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器"
    "容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周"
    "较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章"
    "音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻"
    "父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久"
    "错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷"
    "警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协"
    "角占配征修皮挥胜降阶审沉坚善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份"
    "穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨"
    "丽良序升监临亮露永呼味野架域沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋"
    "画班智亦耳恩短掌恐遗固席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭"
    "妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂"
    "旁宫喝借君禁阴园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森"
    "塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购"
    "替塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍"
    "页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵硬麦蒋操耶阻订"
    "彩抽赞魔纷沿喊违妹浪汇币丰蓝殊献桌啦瓦莱援译夺汽烧距裁偏符勇触课敬哭懂墙袭召罚侠厅拜巧侧韩冒债曼融"
    "惯享戴童犹乘挂奖绍厚纵障讯涉彻刊丈爆乌役描洗玛患妙镜唱烦签仙彼弗症仿倾牌陷鸟轰咱菜闭奋庆撤泪茶疾缘"
    "播朗杜奶季丹狗尾仪偷奔珠虫驻孔宜艾桥淡翼恨繁寒伴叹旦愈潮粮缩罢聚径恰挑袋灰捕徐珍幕映裂泰隔启尖忠累"
    "炎暂估泛荒偿横拒瑞忆孤鼻闹羊呆厉衡胞零穷舍码赫婆魂灾洪腿胆津俗辩胸晓劲贫仁偶辑邦恢赖圈摸仰润堆碰艇"
    "稍迟辆废净凶署壁御奉旋冬矿抬蛋晨伏吹鸡倍糊秦盾杯租骑乏隆诊奴摄丧污渡旗甘耐凭扎抢绪粗肩梁幻菲皆碎宙"
    "叔岩荡综爬荷悉蒂返井壮薄悄扫敏碍殖详迪矛霍允幅撒剩凯颗骂赏液番箱贴漫酸郎腰舒眉忧浮辛恋餐吓挺励辞艘"
    "键伍峰尺昨黎辈贯侦滑券崇扰宪绕趋慈乔阅汗枝拖墨胁插箭腊粉泥氏彭拔骗凤慧媒佩愤扑龄驱惜豪掩兼跃尸肃帕"
    "驶堡届欣惠册储飘桑闲惨洁踪勃宾频仇磨递邪撞拟滚奏巡颜剂绩贡疯坡瞧截燃焦殿伪柳锁逼颇昏劝呈搜勤戒驾漂"
    "饮曹朵仔柔俩孟腐幼践籍牧凉牲佳娜浓芳稿竹腹跌逻垂遵脉貌柏狱猜怜惑陶兽帐饰贷昌叙躺钢沟寄扶铺邓寿惧询"
    "汤盗肥尝匆辉奈扣廷澳嘛董迁凝慰厌脏腾幽怨鞋丢埋泉涌辖躲晋紫艰魏吾慌祝邮吐狠鉴曰械咬邻赤挤弯椅陪割揭"
    "韦悟聪雾锋梯猫祥阔誉筹丛牵鸣沈阁穆屈旨袖猎臂蛇贺柱抛鼠瑟戈牢逊迈欺吨琴衰瓶恼燕仲诱狼池疼卢仗冠粒遥"
    "吕玄尘冯抚浅敦纠钻晶岂峡苍喷耗凌敲菌赔涂粹扁亏寂煤熊恭湿循暖糖赋抑秩帽哀宿踏烂袁侯抖夹昆肝擦猪炼恒"
    "慎搬纽纹玻渔磁铜齿跨押怖漠疲叛遣兹祭醉拳弥斜档稀捷肤疫肿豆削岗晃吞宏癌肚隶履涨耀扭坛拨沃绘伐堪仆郭"
    "牺歼墓雇廉契拼惩捉覆刷劫嫌瓜歇雕闷乳串娃缴唤赢莲霸桃妥瘦搭赴岳嘉舱俊址庞耕锐缝悔邀玲惟斥宅添挖呵讼"
    "氧浩羽斤酷掠妖祸侍乙妨贪挣汪尿莉悬唇翰仓轨枚盐览傅帅庙芬屏寺胖璃愚滴疏萧姿颤丑劣柯寸扔盯辱匹俱辨饿"
    "蜂哦腔郁溃谨糟葛苗肠忌溜鸿爵鹏鹰笼丘桂滋聊挡纲肌茨壳痕碗穴膀卓贤卧膜毅锦欠哩函茫昂薛皱夸豫胃舌剥傲"
    "拾窝睁携陵哼棉晴铃填饲渴吻扮逆脆喘罩卜炉柴愉绳胎蓄眠竭喂傻慕浑奸扇柜悦拦诞饱乾泡贼亭夕爹酬儒姻卵氛"
    "泄杆挨僧蜜吟猩遂狭肖甜霉滩惹凳歪倡蛛娶倘嚷匀厦竿逗窄橡蜡漏掏杠蛮坊翁垒梨钓冤俭瓣彬廊穗溪逛鞭巷铅灌"
    "综链园县镇贯彻落实推进加快开放合作协调创新驱动绿色低碳转型升级融合服务保障优化营商环境招商引资"
    "浏览发布日期作者编辑链接滇黔渝闽粤琼陕皖赣鄂湘冀辽沪浙"
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_PUNCT = "，。、；：？！“”‘’（）《》〈〉【】—…·「」『』　"
_PINYIN = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"  # scraped pages annotate characters with pinyin: 機(jī)遇


class DecodeError(Exception):
    """The bytes are not text we can read; ``reason`` says why, for a Rejection. ``binary`` is True
    when the data is not text at all (as opposed to text in an unknown encoding)."""

    def __init__(self, reason: str, binary: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.binary = binary


@dataclass(frozen=True)
class _Attempt:
    encoding: str
    text: str
    bad: int  # undecodable sequences replaced with U+FFFD
    score: float


@lru_cache(maxsize=1)
def _char_weights() -> dict[str, float]:
    """Weight of each common character, from 1.0 (most frequent) down to 0.5; Traditional forms share
    the weight of their Simplified form."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    weights: dict[str, float] = dict.fromkeys(_PUNCT + _PINYIN, 1.0)
    for rank, simplified in enumerate(_COMMON):
        weight = 1.0 - 0.5 * rank / len(_COMMON)
        for ch in (simplified, s2t.convert(simplified)):
            weights[ch] = max(weights.get(ch, 0.0), weight)
    return weights


def _non_ascii_sample(text: str, size: int = SCORE_CHARS) -> str:
    """The first ``size`` non-ASCII characters of ``text``, wherever they are (pages often start with
    a long ASCII-only head of scripts and styles)."""
    pieces: list[str] = []
    total = 0
    for match in _NON_ASCII.finditer(text):
        pieces.append(match.group())
        total += len(pieces[-1])
        if total >= size:
            break
    return "".join(pieces)[:size]


def plausibility(text: str) -> float:
    """How much the non-ASCII characters of ``text`` (the first ``SCORE_CHARS`` of them) look like
    Chinese, in [0, 1]: their mean weight, common characters and punctuation weighing most (1.0 when
    there are none). Private-use and unassigned code points and U+FFFD count against it."""
    weights = _char_weights()
    total = hits = 0.0
    for ch in _non_ascii_sample(text):
        if ch.isspace():
            continue
        total += 1
        weight = weights.get(ch)
        if weight is not None:
            hits += weight
        elif ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cn"):
            hits -= 1
    return 1.0 if total == 0 else max(hits, 0.0) / total


def _binary_reason(data: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return f"binary file ({kind})"
    head = data[:SNIFF_BYTES]
    if b"\x00" in head:
        return "binary file (contains NUL bytes)"
    controls = len(head) - len(head.translate(None, _CONTROL))
    if controls > MAX_CONTROL_SHARE * len(head):
        return f"binary file ({controls / len(head):.0%} control bytes)"
    return None


def _attempt(data: bytes, encoding: str, final: bool = True) -> _Attempt | None:
    """Decode with replacement; None when the codec cannot be used at all."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    try:
        text = decoder.decode(data, final=final)
    except (LookupError, UnicodeError):
        return None
    legit = 0
    if "\ufffd" in text:
        try:
            legit = data.count("\ufffd".encode(encoding))
        except UnicodeError:
            legit = 0
    bad = max(text.count("\ufffd") - legit, 0)
    return _Attempt(encoding, text, bad, plausibility(text))


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", errors="ignore"))


def _choose(data: bytes, final: bool = True) -> _Attempt:
    """Best candidate decoding of ``data``; raises DecodeError when none is trustworthy."""
    utf8 = _attempt(data, "utf-8", final)
    # Longer valid UTF-8 is practically never an accident; a few GBK/Big5 characters can be
    # valid UTF-8 (C4 BF is both 目 and Ŀ), so short UTF-8 must also look plausible.
    if utf8 is not None and not utf8.bad and (_non_ascii(utf8.text) >= 8 or utf8.score >= 0.5):
        return utf8
    others = (_attempt(data, enc, final) for enc in CANDIDATES if enc != "utf-8")
    attempts = [a for a in (utf8, *others) if a is not None]
    clean = [a for a in attempts if a.bad == 0]
    if clean:
        first = clean[0]
        best = max(clean, key=lambda a: a.score)  # max() keeps the first of equals: CANDIDATES order
        if first.encoding == "utf-8" and best.score < first.score + 0.25:
            return first
        if best.score < MIN_CHINESE_SCORE and _non_ascii(best.text) >= 20:
            return _charset_normalizer_guess(data) or best  # e.g. Shift-JIS, which GB18030 "decodes"
        return best
    # Some bad bytes in every reading: prefer the reading that looks like Chinese, then fewer errors.
    best = max(attempts, key=lambda a: (round(a.score, 2), -a.bad))
    sample_size = max(_non_ascii(best.text), 1)
    if best.score >= MIN_CHINESE_SCORE and best.bad <= max(MAX_BAD_SHARE * sample_size, 3):
        return best
    guess = _charset_normalizer_guess(data)
    if guess is not None:
        return guess
    raise DecodeError(
        f"cannot decode as {', '.join(CANDIDATES)}: best guess {best.encoding} has {best.bad} "
        f"undecodable byte sequences"
    )


def _charset_normalizer_guess(data: bytes) -> _Attempt | None:
    """Last resort for encodings outside the candidates (e.g. Latin-1, Shift-JIS)."""
    try:
        from charset_normalizer import from_bytes

        match = from_bytes(data[: 4 * SNIFF_BYTES]).best()
    except Exception:  # noqa: BLE001 - a detector failure is just "no guess"
        return None
    if match is None or match.encoding.startswith(("utf", "gb", "big5", "cp950")):
        return None
    attempt = _attempt(data, match.encoding)
    if attempt is None or attempt.bad:
        return None
    return attempt


def detect_encoding(sample: bytes) -> str:
    """Codec name for a file of which ``sample`` is the beginning (may end mid-character).

    Raises DecodeError for binary data or when no codec fits."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return "utf-8-sig" if encoding == "utf-8" else encoding
    reason = _binary_reason(sample)
    if reason:
        raise DecodeError(reason, binary=True)
    return _choose(sample, final=False).encoding


def decode_bytes(data: bytes, path: str) -> tuple[str, list[str]]:
    """Decode a whole file's bytes; returns (text, warnings). ``path`` is only used in messages.

    A BOM decides the encoding; otherwise UTF-8, GB18030 and Big5 are tried (see the module docstring).
    Raises DecodeError for binary data or bytes that are no known text encoding."""
    warnings: list[str] = []
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            attempt = _attempt(data[len(bom) :], encoding)
            assert attempt is not None
            if attempt.bad > max(MAX_BAD_SHARE * len(attempt.text), 3):
                raise DecodeError(f"not valid {encoding} despite its byte-order mark ({attempt.bad} errors)")
            break
    else:
        reason = _binary_reason(data)
        if reason:
            raise DecodeError(reason, binary=True)
        attempt = _choose(data)
    if attempt.bad:
        warnings.append(
            f"{os.path.basename(path) or path}: {attempt.bad} undecodable byte sequence"
            f"{'s' if attempt.bad != 1 else ''} replaced with U+FFFD (read as {attempt.encoding})"
        )
    elif attempt.encoding not in CANDIDATES and not attempt.encoding.startswith("utf-"):
        warnings.append(f"{os.path.basename(path) or path}: encoding guessed as {attempt.encoding}")
    elif _garbled_part(attempt):
        warnings.append(
            f"{os.path.basename(path) or path}: part of the text reads as no common Chinese in "
            f"{attempt.encoding} (kept; mixed encodings or garbled bytes?)"
        )
    return attempt.text, warnings


def _garbled_part(attempt: _Attempt, parts: int = 4) -> bool:
    """Whether the whole text, or one of its quarters, scores far below plausible Chinese.

    A file that is half GBK and half Big5 decodes cleanly in one of them, and the good half can lift
    the whole file's score over the bar; its garbled half does not pass on its own.
    """
    text = attempt.text
    if _non_ascii(text) >= 20 and attempt.score < MIN_CHINESE_SCORE:
        return True
    step = max(1, len(text) // parts)
    for i in range(0, len(text), step):
        piece = text[i : i + step]
        if _non_ascii(piece) >= 40 and plausibility(piece) < MIN_CHINESE_SCORE / 2:
            return True
    return False


def read_text_file(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """Read and decode a whole text file; raises DecodeError when it is too large, binary or blank."""
    text, warnings = decode_bytes(read_capped(path), str(path))
    if not text.strip():
        raise DecodeError("empty file" if not text else "file contains only whitespace")
    return text, warnings


def read_capped(path: str | os.PathLike[str]) -> bytes:
    """Read a whole regular file of at most ``MAX_FILE_BYTES``; raises DecodeError otherwise."""
    try:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            raise DecodeError(_too_large(size))
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DecodeError(f"cannot read file: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise DecodeError(_too_large(len(data)))
    return data


def _too_large(size: int) -> str:
    return f"file too large: {size:,} bytes (limit MAX_FILE_BYTES = {MAX_FILE_BYTES:,})"
