"""The demo community's content: verticals, topics (products per vertical, in Chinese and English), post
and reply templates, names and bios. Data only; ``seed_demo`` combines it."""

VERTICALS = ["beauty", "fashion", "tech", "parenting", "food", "travel", "fitness", "home", "auto", "pets",
             "books", "gaming"]
VERTICAL_ZH = {"beauty": "美妆", "fashion": "穿搭", "tech": "数码", "parenting": "育儿", "food": "美食",
               "travel": "旅行", "fitness": "健身", "home": "家居", "auto": "汽车", "pets": "宠物",
               "books": "读书", "gaming": "游戏"}

# per vertical: things (en, zh) that posts talk about, and hashtags (en, zh)
TOPICS: dict[str, dict[str, list]] = {
    "beauty": {"items": [("sunscreen", "防晒霜"), ("lip tint", "唇釉"), ("serum", "精华液"), ("cushion foundation", "气垫粉底"),
                         ("cleansing balm", "卸妆膏"), ("eye palette", "眼影盘")],
               "tags": (["skincare", "makeup", "beauty"], ["护肤", "彩妆", "美妆"])},
    "fashion": {"items": [("trench coat", "风衣"), ("white sneakers", "小白鞋"), ("linen shirt", "亚麻衬衫"),
                          ("wide-leg trousers", "阔腿裤"), ("tote bag", "托特包"), ("cashmere sweater", "羊绒衫")],
                "tags": (["ootd", "fashion", "style"], ["穿搭", "时尚", "今日穿搭"])},
    "tech": {"items": [("noise-cancelling headphones", "降噪耳机"), ("mechanical keyboard", "机械键盘"),
                       ("phone", "手机"), ("e-reader", "电子书阅读器"), ("smartwatch", "智能手表"), ("power bank", "充电宝")],
             "tags": (["tech", "gadgets", "review"], ["数码", "科技", "测评"])},
    "parenting": {"items": [("stroller", "婴儿推车"), ("picture book", "绘本"), ("baby carrier", "婴儿背带"),
                            ("bottle warmer", "温奶器"), ("building blocks", "积木"), ("car seat", "安全座椅")],
                  "tags": (["parenting", "momlife", "kids"], ["育儿", "宝妈", "亲子"])},
    "food": {"items": [("hotpot base", "火锅底料"), ("pour-over coffee", "手冲咖啡"), ("dumplings", "饺子"),
                       ("sourdough", "酸面包"), ("oolong tea", "乌龙茶"), ("rice cooker", "电饭煲")],
             "tags": (["foodie", "recipe", "food"], ["美食", "探店", "食谱"])},
    "travel": {"items": [("carry-on suitcase", "登机箱"), ("Chengdu", "成都"), ("Kyoto", "京都"), ("travel pillow", "旅行枕"),
                         ("Yunnan", "云南"), ("hiking boots", "登山鞋")],
               "tags": (["travel", "wanderlust", "trip"], ["旅行", "攻略", "打卡"])},
    "fitness": {"items": [("yoga mat", "瑜伽垫"), ("running shoes", "跑鞋"), ("protein powder", "蛋白粉"),
                          ("kettlebell", "壶铃"), ("foam roller", "泡沫轴"), ("fitness tracker", "运动手环")],
                "tags": (["fitness", "workout", "running"], ["健身", "跑步", "减脂"])},
    "home": {"items": [("air purifier", "空气净化器"), ("robot vacuum", "扫地机器人"), ("storage boxes", "收纳盒"),
                       ("desk lamp", "台灯"), ("bedding set", "四件套"), ("aroma diffuser", "香薰机")],
             "tags": (["homedecor", "organizing", "home"], ["家居", "收纳", "好物"])},
    "auto": {"items": [("dash cam", "行车记录仪"), ("EV charger", "充电桩"), ("car vacuum", "车载吸尘器"),
                       ("tyres", "轮胎"), ("seat cushion", "座椅靠垫"), ("phone mount", "手机支架")],
             "tags": (["cars", "ev", "roadtrip"], ["汽车", "新能源", "自驾"])},
    "pets": {"items": [("cat litter", "猫砂"), ("dog leash", "牵引绳"), ("pet fountain", "宠物饮水机"),
                       ("cat tree", "猫爬架"), ("freeze-dried treats", "冻干零食"), ("pet brush", "宠物梳")],
             "tags": (["cats", "dogs", "pets"], ["萌宠", "猫咪", "狗狗"])},
    "books": {"items": [("novel", "小说"), ("poetry collection", "诗集"), ("history book", "历史书"),
                        ("notebook", "笔记本"), ("reading lamp", "阅读灯"), ("bookstand", "书架")],
              "tags": (["books", "reading", "booklover"], ["读书", "书单", "阅读"])},
    "gaming": {"items": [("controller", "手柄"), ("gaming mouse", "游戏鼠标"), ("handheld console", "掌机"),
                         ("gaming chair", "电竞椅"), ("indie game", "独立游戏"), ("headset", "耳麦")],
               "tags": (["gaming", "gamer", "indiegame"], ["游戏", "电竞", "主机"])},
}

EN_TEMPLATES = [
    "Tried the {item} for two weeks — honestly better than I expected. Full notes below 👇",
    "My top pick this month: a {item} that doesn't break the bank. Worth it? Yes.",
    "Quick review: this {item} is light, well made and the price dropped again today.",
    "Three things nobody tells you before buying a {item}. Thread!",
    "Not sponsored: I bought this {item} with my own money and I'm keeping it.",
    "If you only get one {item} this year, make it this one. Here's why.",
    "Comparing two {item} options side by side. The cheaper one wins on comfort.",
    "Restocked my favourite {item}. Still the best value I've found.",
    "Unpopular opinion: the viral {item} is overrated. This one is better.",
    "Weekend haul: a new {item} and a few small things I've been eyeing.",
]
ZH_TEMPLATES = [
    "用了两周的{item}，真心比预期好用，细节写在下面👇",
    "本月最爱：这款{item}性价比超高，值得入手！",
    "快速测评：这个{item}轻便耐用，今天又降价了。",
    "买{item}之前没人告诉你的三件事，建议收藏！",
    "自费购买，不是广告：这款{item}我会一直用下去。",
    "今年只买一个{item}的话，就选它，理由如下。",
    "两款{item}对比实测，便宜的那款反而更舒服。",
    "又回购了我最爱的{item}，依然是我找到的最划算的。",
    "说句大实话：网红{item}被高估了，这款更好用。",
    "周末分享：新入手的{item}，还有几件种草很久的小东西。",
]
EN_REPLIES = ["Thanks for the honest review!", "Where did you buy it?", "Same here, love mine.",
              "How long does it last?", "Added to my list 🛒", "Is it good for beginners?",
              "Great photos!", "Does it come in other colours?"]
ZH_REPLIES = ["谢谢真实分享！", "在哪里买的呀？", "同款！我也超喜欢。", "能用多久呀？", "已加入购物车🛒",
              "新手适合吗？", "图片拍得好好看！", "还有别的颜色吗？"]

EN_FIRST = ["Alex", "Sam", "Jamie", "Taylor", "Jordan", "Casey", "Riley", "Morgan", "Avery", "Quinn", "Emma",
            "Olivia", "Liam", "Noah", "Mia", "Lucas", "Zoe", "Ethan", "Chloe", "Leo", "Grace", "Ivy", "Max", "Nora"]
EN_LAST = ["Smith", "Lee", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Moore", "Clark", "Lewis", "Walker",
           "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson"]
ZH_SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
               ("黄", "huang"), ("赵", "zhao"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"),
               ("林", "lin"), ("何", "he"), ("郭", "guo"), ("马", "ma")]
ZH_GIVEN = [("小雨", "xiaoyu"), ("晓明", "xiaoming"), ("佳怡", "jiayi"), ("子涵", "zihan"), ("浩然", "haoran"),
            ("欣怡", "xinyi"), ("梓萱", "zixuan"), ("宇轩", "yuxuan"), ("思远", "siyuan"), ("雨桐", "yutong"),
            ("一诺", "yinuo"), ("俊杰", "junjie"), ("婷婷", "tingting"), ("明轩", "mingxuan")]
EXPERT_EN_BIO = "{v} expert · honest reviews, no fluff · I buy most of what I review · collabs by DM"
EXPERT_ZH_BIO = "{v}达人｜真实测评不吹不黑｜大部分产品自费购买｜合作请私信"
FAN_EN_BIO = ["Just here for good finds.", "Coffee, books and the occasional haul.", "Saving up for the next trip.",
              "Cat person. Deal hunter.", ""]
FAN_ZH_BIO = ["认真生活，快乐种草。", "咖啡、读书、偶尔剁手。", "攒钱去旅行中。", "猫奴一枚，爱找好价。", ""]

PALETTES = {v: i / len(VERTICALS) for i, v in enumerate(VERTICALS)}  # a hue per vertical
