"""The labelled corpus the labeler is trained on, written by the project itself (nothing downloaded).

``python -m tastemaker.experts.corpus`` regenerates ``data/corpus_train.jsonl`` and
``data/corpus_heldout.jsonl`` deterministically. Each line is ``{"text", "vertical", "lang"}``.

Generalisation is measured honestly: the held-out sentences use **other sentence templates** than
the training ones, and a part of each vertical's vocabulary (the last ``HOLD`` products, descriptors
and situations of every list) appears **only** in held-out sentences. A model that had memorised
the training sentences would not score well there.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

DATA = Path(__file__).with_name("data")
TRAIN_FILE = DATA / "corpus_train.jsonl"
HELDOUT_FILE = DATA / "corpus_heldout.jsonl"
PER_VERTICAL_LANG_TRAIN = 260  # x 2 languages x 12 verticals = 6,240 training sentences
PER_VERTICAL_LANG_HELDOUT = 60  # 1,440 held-out sentences

# vertical -> language -> (products, descriptors, situations); the last ITEMS_HOLD / HOLD of each list
# are held-out-only vocabulary
ITEMS_HOLD = 4
HOLD = 2
VOCAB: dict[str, dict[str, tuple[list[str], list[str], list[str]]]] = {
    "beauty": {
        "en": (["sunscreen", "lip tint", "serum", "cushion foundation", "cleansing balm", "eye palette", "moisturiser",
                "toner", "sheet mask", "mascara", "concealer", "eye cream", "setting spray", "blush"],
               ["hydrating", "non-greasy", "long-wearing", "fragrance-free", "dewy finish", "matte", "pore-blurring",
                "gentle on sensitive skin"],
               ["for dry skin", "under makeup", "in my night routine", "for oily skin", "before a wedding",
                "on acne-prone skin"]),
        "zh": (["防晒霜", "唇釉", "精华液", "气垫粉底", "卸妆膏", "眼影盘", "面霜", "爽肤水", "面膜", "睫毛膏",
                "遮瑕膏", "眼霜", "定妆喷雾", "腮红"],
               ["保湿", "不油腻", "持妆", "无香精", "水光肌", "哑光", "遮毛孔", "敏感肌可用"],
               ["干皮", "上妆前", "晚间护肤", "油皮", "婚礼前", "痘痘肌"]),
    },
    "fashion": {
        "en": (["trench coat", "white sneakers", "linen shirt", "wide-leg trousers", "tote bag", "cashmere sweater",
                "denim jacket", "midi skirt", "loafers", "silk scarf", "blazer", "knit cardigan", "ankle boots",
                "pleated dress"],
               ["oversized fit", "tailored", "breathable fabric", "true to size", "neutral tones", "layering piece",
                "capsule wardrobe staple", "flattering cut"],
               ["for the office", "for a casual weekend", "for autumn outfits", "for a first date",
                "for petite frames", "for a smart-casual dress code"]),
        "zh": (["风衣", "小白鞋", "亚麻衬衫", "阔腿裤", "托特包", "羊绒衫", "牛仔外套", "半身裙", "乐福鞋", "丝巾",
                "西装外套", "针织开衫", "短靴", "百褶裙"],
               ["宽松版型", "修身剪裁", "面料透气", "尺码标准", "大地色系", "叠穿单品", "胶囊衣橱", "显瘦"],
               ["通勤穿搭", "周末休闲", "秋季穿搭", "约会穿搭", "小个子", "商务休闲"]),
    },
    "tech": {
        "en": (["noise-cancelling headphones", "mechanical keyboard", "phone", "e-reader", "smartwatch", "power bank",
                "laptop", "tablet", "wireless earbuds", "monitor", "webcam", "router", "SSD", "USB-C hub"],
               ["battery life", "fast charging", "refresh rate", "processor", "Bluetooth latency", "firmware update",
                "build quality", "low latency"],
               ["for working from home", "for coding", "for video calls", "for a long commute", "for photo editing",
                "for a home office setup"]),
        "zh": (["降噪耳机", "机械键盘", "手机", "电子书阅读器", "智能手表", "充电宝", "笔记本电脑", "平板", "无线耳机",
                "显示器", "摄像头", "路由器", "固态硬盘", "扩展坞"],
               ["续航", "快充", "刷新率", "处理器", "蓝牙延迟", "固件升级", "做工", "低延迟"],
               ["居家办公", "写代码", "视频会议", "通勤路上", "修图", "桌面搭建"]),
    },
    "parenting": {
        "en": (["stroller", "picture book", "baby carrier", "bottle warmer", "building blocks", "car seat",
                "diapers", "high chair", "baby monitor", "teething toy", "crib", "sippy cup", "play mat",
                "baby bathtub"],
               ["safe for newborns", "BPA-free", "easy to fold", "educational", "washable", "gentle on baby's skin",
                "pediatrician recommended", "soothing"],
               ["for a toddler", "for my newborn", "for sleep training", "for a family trip with kids",
                "for twins", "for preschoolers"]),
        "zh": (["婴儿推车", "绘本", "婴儿背带", "温奶器", "积木", "安全座椅", "纸尿裤", "宝宝餐椅", "婴儿监视器",
                "牙胶", "婴儿床", "学饮杯", "爬行垫", "婴儿浴盆"],
               ["新生儿可用", "不含双酚A", "一键收车", "益智", "可水洗", "不伤宝宝皮肤", "儿科医生推荐", "安抚"],
               ["带娃", "新手爸妈", "哄睡", "亲子出游", "双胞胎", "幼儿园宝宝"]),
    },
    "food": {
        "en": (["hotpot base", "pour-over coffee", "dumplings", "sourdough", "oolong tea", "rice cooker",
                "chili oil", "ramen", "matcha", "cast iron pan", "olive oil", "dim sum", "espresso machine",
                "dark chocolate"],
               ["spicy", "savory", "crispy", "fresh ingredients", "rich flavour", "homemade", "umami", "tender"],
               ["for a quick dinner", "for brunch", "for a dinner party", "for meal prep", "on a rainy evening",
                "for a picnic"]),
        "zh": (["火锅底料", "手冲咖啡", "饺子", "酸面包", "乌龙茶", "电饭煲", "辣椒油", "拉面", "抹茶", "铸铁锅",
                "橄榄油", "早茶点心", "咖啡机", "黑巧克力"],
               ["麻辣", "咸香", "酥脆", "食材新鲜", "味道浓郁", "自制", "鲜美", "软嫩"],
               ["快手晚餐", "早午餐", "家庭聚餐", "备餐", "下雨天", "野餐"]),
    },
    "travel": {
        "en": (["carry-on suitcase", "Chengdu", "Kyoto", "travel pillow", "Yunnan", "hiking boots", "boutique hotel",
                "backpack", "passport holder", "Bali", "travel adapter", "Iceland", "packing cubes", "hostel"],
               ["itinerary", "flight deals", "scenic route", "local guide", "off the beaten path", "visa tips",
                "hidden gems", "budget-friendly"],
               ["for a long-haul flight", "for a weekend getaway", "for a backpacking trip", "for a road trip",
                "for a honeymoon", "for solo travel"]),
        "zh": (["登机箱", "成都", "京都", "旅行枕", "云南", "登山鞋", "民宿", "双肩包", "护照夹", "巴厘岛",
                "转换插头", "冰岛", "收纳袋", "青旅"],
               ["行程攻略", "特价机票", "风景路线", "当地向导", "小众景点", "签证攻略", "宝藏地点", "穷游"],
               ["长途飞行", "周末出游", "背包旅行", "自驾游", "蜜月旅行", "一个人旅行"]),
    },
    "fitness": {
        "en": (["yoga mat", "running shoes", "protein powder", "kettlebell", "foam roller", "fitness tracker",
                "dumbbells", "resistance bands", "jump rope", "pull-up bar", "gym bag", "compression leggings",
                "rowing machine", "massage gun"],
               ["cardio", "strength training", "muscle recovery", "calorie burn", "personal best", "HIIT",
                "core workout", "mobility"],
               ["for marathon training", "for a home workout", "for weight loss", "after leg day",
                "for beginners at the gym", "for morning runs"]),
        "zh": (["瑜伽垫", "跑鞋", "蛋白粉", "壶铃", "泡沫轴", "运动手环", "哑铃", "弹力带", "跳绳", "引体向上杆",
                "健身包", "紧身裤", "划船机", "筋膜枪"],
               ["有氧", "力量训练", "肌肉恢复", "燃脂", "个人最好成绩", "高强度间歇", "核心训练", "拉伸"],
               ["马拉松备赛", "居家健身", "减脂期", "练腿日之后", "健身新手", "晨跑"]),
    },
    "home": {
        "en": (["air purifier", "robot vacuum", "storage boxes", "desk lamp", "bedding set", "aroma diffuser",
                "sofa", "curtains", "rug", "shelving unit", "dehumidifier", "duvet", "bathroom organizer",
                "wall clock"],
               ["space-saving", "minimalist", "cosy", "easy to clean", "declutter", "Nordic style", "quiet motor",
                "soft lighting"],
               ["for a small apartment", "for the living room", "for a rental flat", "for the bedroom",
                "for a home makeover", "for the kitchen counter"]),
        "zh": (["空气净化器", "扫地机器人", "收纳盒", "台灯", "四件套", "香薰机", "沙发", "窗帘", "地毯", "置物架",
                "除湿机", "被子", "浴室收纳", "挂钟"],
               ["节省空间", "极简", "温馨", "好打理", "断舍离", "北欧风", "静音", "柔和灯光"],
               ["小户型", "客厅", "出租屋改造", "卧室", "家居改造", "厨房台面"]),
    },
    "auto": {
        "en": (["dash cam", "EV charger", "car vacuum", "tyres", "seat cushion", "phone mount", "jump starter",
                "car wax", "roof box", "wiper blades", "tire inflator", "engine oil", "sunshade",
                "car air freshener"],
               ["mileage", "horsepower", "fuel economy", "range per charge", "test drive", "easy install",
                "torque", "smooth handling"],
               ["for a long road trip", "for my SUV", "for an electric car", "for winter driving",
                "for the daily commute by car", "for a new driver"]),
        "zh": (["行车记录仪", "充电桩", "车载吸尘器", "轮胎", "座椅靠垫", "手机支架", "应急启动电源", "车蜡",
                "车顶箱", "雨刮器", "车载充气泵", "机油", "遮阳挡", "车载香薰"],
               ["油耗", "马力", "省油", "续航里程", "试驾", "安装简单", "扭矩", "操控平稳"],
               ["长途自驾", "SUV", "新能源车", "冬季开车", "开车通勤", "新手司机"]),
    },
    "pets": {
        "en": (["cat litter", "dog leash", "pet fountain", "cat tree", "freeze-dried treats", "pet brush",
                "dog bed", "cat food", "chew toy", "pet carrier", "flea collar", "scratching post", "dog harness",
                "litter box"],
               ["grain-free", "odour control", "vet approved", "picky eater", "shedding", "playful", "indoor cats",
                "puppy training"],
               ["for my cat", "for a senior dog", "for a new puppy", "for a kitten", "for a multi-pet home",
                "for walks in the park"]),
        "zh": (["猫砂", "牵引绳", "宠物饮水机", "猫爬架", "冻干零食", "宠物梳", "狗窝", "猫粮", "磨牙玩具", "航空箱",
                "驱虫项圈", "猫抓板", "狗狗胸背带", "猫砂盆"],
               ["无谷", "除臭", "兽医推荐", "挑食", "掉毛", "活泼", "室内猫", "幼犬训练"],
               ["我家猫咪", "老年犬", "刚到家的小狗", "小奶猫", "多宠家庭", "遛狗"]),
    },
    "books": {
        "en": (["novel", "poetry collection", "history book", "notebook", "reading lamp", "bookstand", "memoir",
                "graphic novel", "audiobook", "biography", "bookmark", "essay collection", "science fiction series",
                "book club pick"],
               ["page-turner", "beautifully written", "thought-provoking", "plot twist", "author", "chapters",
                "characters", "translation"],
               ["for a book club", "for a quiet Sunday", "for a reading slump", "before bed",
                "for fans of literary fiction", "on a long train ride"]),
        "zh": (["小说", "诗集", "历史书", "笔记本", "阅读灯", "书架", "回忆录", "漫画书", "有声书", "传记", "书签",
                "散文集", "科幻系列", "读书会书单"],
               ["一口气读完", "文笔优美", "发人深省", "情节反转", "作者", "章节", "人物塑造", "译本"],
               ["读书会", "安静的周日", "阅读倦怠期", "睡前", "文学爱好者", "坐火车"]),
    },
    "gaming": {
        "en": (["controller", "gaming mouse", "handheld console", "gaming chair", "indie game", "headset",
                "RPG", "graphics card", "racing wheel", "open-world game", "arcade stick", "capture card",
                "gaming monitor", "co-op game"],
               ["frame rate", "boss fight", "multiplayer", "speedrun", "DLC", "save file", "ranked matches",
                "button mapping"],
               ["for couch co-op", "for esports", "for late-night sessions", "for streaming", "on the Switch",
                "for a LAN party"]),
        "zh": (["手柄", "游戏鼠标", "掌机", "电竞椅", "独立游戏", "耳麦", "角色扮演游戏", "显卡", "方向盘外设",
                "开放世界游戏", "街机摇杆", "采集卡", "电竞显示器", "双人合作游戏"],
               ["帧率", "打Boss", "多人联机", "速通", "资料片", "存档", "排位赛", "按键映射"],
               ["沙发联机", "电竞比赛", "熬夜开黑", "直播", "在Switch上", "局域网联机"]),
    },
}

TEMPLATES_TRAIN = {
    "en": [
        "Tried the {item} for two weeks — honestly better than I expected, {desc} and great {ctx}.",
        "My top pick this month: a {item} that doesn't break the bank. {desc}, worth it {ctx}.",
        "Quick review: this {item} is {desc} and the price dropped again today.",
        "Three things nobody tells you before buying a {item} {ctx}. Thread!",
        "Not sponsored: I bought this {item} with my own money. {desc} is the reason I keep it.",
        "If you only get one {item} this year, make it this one. Here's why: {desc}.",
        "Comparing two {item} options side by side {ctx}. The cheaper one wins on {desc}.",
        "Restocked my favourite {item}. Still the best value I've found {ctx}.",
        "Unpopular opinion: the viral {item} is overrated. This {item2} is better.",
        "Weekend haul: a new {item} and a {item2} I've been eyeing {ctx}.",
        "{desc} {item} — my honest review {ctx}",
        "Anyone else obsessed with their {item}? Pair it with a {item2}.",
        "Which {item} should I buy {ctx}? I care most about {desc}.",
    ],
    "zh": [
        "用了两周的{item}，真心比预期好用，{desc}，{ctx}很合适👇",
        "本月最爱：这款{item}性价比超高，{desc}，值得入手！",
        "快速测评：这个{item}{desc}，今天又降价了。",
        "{ctx}买{item}之前没人告诉你的三件事，建议收藏！",
        "自费购买，不是广告：这款{item}{desc}，我会一直用下去。",
        "今年只买一个{item}的话，就选它，理由是{desc}。",
        "两款{item}对比实测，{ctx}便宜的那款反而更{desc}。",
        "又回购了我最爱的{item}，{ctx}依然是最划算的。",
        "说句大实话：网红{item}被高估了，这款{item2}更好用。",
        "周末分享：新入手的{item}，还有种草很久的{item2}。",
        "{ctx}必备{item}｜{desc}真实测评",
        "有没有人和我一样爱{item}？搭配{item2}更好。",
        "{ctx}应该买哪个{item}？最在意{desc}。",
    ],
}
TEMPLATES_HELDOUT = {
    "en": [
        "Okay so I finally caved and got the {item}. Verdict {ctx}: {desc}, no regrets.",
        "PSA: the {item} is on sale. I use mine {ctx} and love how {desc} it is.",
        "Ranking every {item} I've owned — the winner is {desc} and pairs well with my {item2}.",
        "Day 30 with the {item}: {desc}. Would I buy it again {ctx}? Absolutely.",
        "Returned the {item2}, kept the {item}. {desc} made all the difference.",
        "Swipe for my {item} setup {ctx} ✨ {desc}",
        "Honest question: is a {item} worth it {ctx} if you mostly want {desc}?",
    ],
    "zh": [
        "终于忍不住入了{item}，{ctx}用下来{desc}，不后悔。",
        "提醒一下：{item}在打折，我{ctx}一直在用，太{desc}了。",
        "把用过的{item}排个名，第一名{desc}，和{item2}是绝配。",
        "{item}使用第30天：{desc}，{ctx}还会回购吗？会的。",
        "退了{item2}，留下了{item}，{desc}真的差别很大。",
        "分享一下我的{item}清单✨{ctx}｜{desc}",
        "想问问：{ctx}主要看重{desc}的话，{item}值得买吗？",
    ],
}


def _split(words: list[str], hold: int) -> tuple[list[str], list[str]]:
    return words[:-hold], words  # training vocabulary; held-out draws from all of it (incl. unseen words)


def generate(kind: str, seed: int = 2015) -> list[dict]:
    rng = random.Random(f"{seed}-{kind}")
    rows: list[dict] = []
    count = PER_VERTICAL_LANG_TRAIN if kind == "train" else PER_VERTICAL_LANG_HELDOUT
    templates = TEMPLATES_TRAIN if kind == "train" else TEMPLATES_HELDOUT
    for vertical, langs in VOCAB.items():
        for lang, (items, descs, ctxs) in langs.items():
            train_items, all_items = _split(items, ITEMS_HOLD)
            train_descs, all_descs = _split(descs, HOLD)
            train_ctxs, all_ctxs = _split(ctxs, HOLD)
            if kind == "train":
                pool_i, pool_d, pool_c = train_items, train_descs, train_ctxs
            else:  # held-out: every sentence has at least one word never seen in training
                pool_i, pool_d, pool_c = all_items, all_descs, all_ctxs
            seen: set[str] = set()
            attempts = 0
            while sum(1 for r in rows if r["vertical"] == vertical and r["lang"] == lang) < count:
                attempts += 1
                item, item2 = rng.sample(pool_i, 2)
                desc, ctx = rng.choice(pool_d), rng.choice(pool_c)
                if kind == "heldout":
                    unseen = [w for w in (item, desc, ctx) if w not in train_items + train_descs + train_ctxs]
                    if not unseen:
                        continue
                text = rng.choice(templates[lang]).format(item=item, item2=item2, desc=desc, ctx=ctx)
                if text in seen and attempts < 20 * count:
                    continue
                seen.add(text)
                rows.append({"text": text, "vertical": vertical, "lang": lang})
    rng.shuffle(rows)
    return rows


def write() -> None:
    DATA.mkdir(exist_ok=True)
    for kind, path in (("train", TRAIN_FILE), ("heldout", HELDOUT_FILE)):
        rows = generate(kind)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{path}: {len(rows)} sentences")


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


if __name__ == "__main__":
    write()
