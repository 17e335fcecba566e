"""Word lists for the synthetic world of `linker.synth`: names, places, phones, goods, carriers.

Plain data, kept apart from the generator so that the generator reads as an algorithm. Chinese
entries come as (hanzi, pinyin) pairs so that one person or place can be written either way.
Foreign phone prefixes were chosen so that `phonenumbers` accepts the numbers built from them
(tests/test_synth.py checks that most generated phones are valid).
"""

from __future__ import annotations

# --- Chinese people -------------------------------------------------------------------------
# (hanzi, pinyin, weight): the most common surnames, weighted roughly by frequency.
SURNAMES = [
    ("王", "Wang", 72), ("李", "Li", 70), ("张", "Zhang", 66), ("刘", "Liu", 53), ("陈", "Chen", 45),
    ("杨", "Yang", 31), ("黄", "Huang", 24), ("赵", "Zhao", 22), ("吴", "Wu", 20), ("周", "Zhou", 19),
    ("徐", "Xu", 16), ("孙", "Sun", 15), ("马", "Ma", 14), ("朱", "Zhu", 13), ("胡", "Hu", 12),
    ("郭", "Guo", 11), ("何", "He", 10), ("高", "Gao", 10), ("林", "Lin", 10), ("罗", "Luo", 9),
    ("郑", "Zheng", 9), ("梁", "Liang", 8), ("谢", "Xie", 7), ("宋", "Song", 6), ("唐", "Tang", 6),
    ("许", "Xu", 6), ("韩", "Han", 6), ("冯", "Feng", 6), ("邓", "Deng", 6), ("曹", "Cao", 5),
    ("彭", "Peng", 5), ("曾", "Zeng", 5), ("肖", "Xiao", 5), ("田", "Tian", 5), ("董", "Dong", 5),
    ("袁", "Yuan", 4), ("潘", "Pan", 4), ("于", "Yu", 4), ("蒋", "Jiang", 4), ("蔡", "Cai", 4),
    ("余", "Yu", 4), ("杜", "Du", 4), ("叶", "Ye", 4), ("程", "Cheng", 4), ("苏", "Su", 3),
    ("魏", "Wei", 3), ("吕", "Lv", 3), ("丁", "Ding", 3), ("任", "Ren", 3), ("沈", "Shen", 3),
    ("姚", "Yao", 3), ("卢", "Lu", 3), ("姜", "Jiang", 3), ("崔", "Cui", 3), ("钟", "Zhong", 3),
    ("谭", "Tan", 3), ("陆", "Lu", 3), ("汪", "Wang", 3), ("范", "Fan", 3), ("金", "Jin", 3),
    ("石", "Shi", 2), ("廖", "Liao", 2), ("贾", "Jia", 2), ("夏", "Xia", 2), ("韦", "Wei", 2),
    ("欧阳", "Ouyang", 1), ("司马", "Sima", 1), ("上官", "Shangguan", 1),
]

# (hanzi, pinyin) of characters common in given names.
GIVEN_CHARS = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("英", "ying"), ("华", "hua"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("兰", "lan"),
    ("文", "wen"), ("辉", "hui"), ("玲", "ling"), ("建", "jian"), ("国", "guo"), ("红", "hong"),
    ("海", "hai"), ("波", "bo"), ("鹏", "peng"), ("宇", "yu"), ("浩", "hao"), ("婷", "ting"),
    ("雪", "xue"), ("琳", "lin"), ("晨", "chen"), ("欣", "xin"), ("怡", "yi"), ("子", "zi"),
    ("轩", "xuan"), ("梓", "zi"), ("涵", "han"), ("思", "si"), ("嘉", "jia"), ("俊", "jun"),
    ("佳", "jia"), ("慧", "hui"), ("志", "zhi"), ("东", "dong"), ("春", "chun"), ("晓", "xiao"),
    ("小", "xiao"), ("亮", "liang"), ("斌", "bin"), ("飞", "fei"), ("燕", "yan"), ("霞", "xia"),
    ("峰", "feng"), ("林", "lin"), ("成", "cheng"), ("德", "de"), ("天", "tian"), ("瑞", "rui"),
    ("凯", "kai"), ("昊", "hao"), ("博", "bo"), ("然", "ran"), ("雨", "yu"), ("萱", "xuan"),
    ("一", "yi"), ("诺", "nuo"), ("安", "an"), ("泽", "ze"), ("晗", "han"), ("琪", "qi"),
    ("新", "xin"), ("永", "yong"), ("金", "jin"), ("玉", "yu"), ("梅", "mei"), ("凤", "feng"),
]

# --- Chinese places ---------------------------------------------------------------------------
# (province hanzi, province pinyin, city hanzi, city pinyin, telephone area code, 6-digit ID area
#  code prefix, postcode, weight, [(district hanzi, district pinyin)]).
CITIES = [
    ("广东省", "Guangdong", "深圳市", "Shenzhen", "755", "4403", "518000", 14,
     [("南山区", "Nanshan"), ("福田区", "Futian"), ("宝安区", "Bao'an"), ("龙岗区", "Longgang"), ("罗湖区", "Luohu")]),
    ("广东省", "Guangdong", "广州市", "Guangzhou", "20", "4401", "510000", 12,
     [("天河区", "Tianhe"), ("越秀区", "Yuexiu"), ("白云区", "Baiyun"), ("番禺区", "Panyu"), ("海珠区", "Haizhu")]),
    ("广东省", "Guangdong", "东莞市", "Dongguan", "769", "4419", "523000", 5,
     [("长安镇", "Chang'an"), ("虎门镇", "Humen"), ("南城街道", "Nancheng")]),
    ("上海市", "Shanghai", "上海市", "Shanghai", "21", "3101", "200000", 12,
     [("浦东新区", "Pudong"), ("徐汇区", "Xuhui"), ("静安区", "Jing'an"), ("闵行区", "Minhang"), ("长宁区", "Changning")]),
    ("北京市", "Beijing", "北京市", "Beijing", "10", "1101", "100000", 10,
     [("朝阳区", "Chaoyang"), ("海淀区", "Haidian"), ("东城区", "Dongcheng"), ("丰台区", "Fengtai"), ("西城区", "Xicheng")]),
    ("浙江省", "Zhejiang", "杭州市", "Hangzhou", "571", "3301", "310000", 7,
     [("西湖区", "Xihu"), ("余杭区", "Yuhang"), ("滨江区", "Binjiang"), ("拱墅区", "Gongshu")]),
    ("浙江省", "Zhejiang", "义乌市", "Yiwu", "579", "3307", "322000", 6,
     [("稠城街道", "Choucheng"), ("北苑街道", "Beiyuan"), ("江东街道", "Jiangdong")]),
    ("浙江省", "Zhejiang", "宁波市", "Ningbo", "574", "3302", "315000", 4,
     [("鄞州区", "Yinzhou"), ("海曙区", "Haishu"), ("北仑区", "Beilun")]),
    ("江苏省", "Jiangsu", "苏州市", "Suzhou", "512", "3205", "215000", 5,
     [("姑苏区", "Gusu"), ("工业园区", "Industrial Park"), ("吴中区", "Wuzhong")]),
    ("江苏省", "Jiangsu", "南京市", "Nanjing", "25", "3201", "210000", 4,
     [("鼓楼区", "Gulou"), ("玄武区", "Xuanwu"), ("江宁区", "Jiangning")]),
    ("江苏省", "Jiangsu", "常州市", "Changzhou", "519", "3204", "213000", 2,
     [("武进区", "Wujin"), ("新北区", "Xinbei")]),
    ("福建省", "Fujian", "厦门市", "Xiamen", "592", "3502", "361000", 3,
     [("思明区", "Siming"), ("湖里区", "Huli")]),
    ("四川省", "Sichuan", "成都市", "Chengdu", "28", "5101", "610000", 5,
     [("武侯区", "Wuhou"), ("锦江区", "Jinjiang"), ("高新区", "Gaoxin")]),
    ("湖北省", "Hubei", "武汉市", "Wuhan", "27", "4201", "430000", 4,
     [("洪山区", "Hongshan"), ("江汉区", "Jianghan"), ("武昌区", "Wuchang")]),
    ("天津市", "Tianjin", "天津市", "Tianjin", "22", "1201", "300000", 3,
     [("和平区", "Heping"), ("南开区", "Nankai"), ("滨海新区", "Binhai")]),
    ("山东省", "Shandong", "青岛市", "Qingdao", "532", "3702", "266000", 3,
     [("市南区", "Shinan"), ("崂山区", "Laoshan"), ("黄岛区", "Huangdao")]),
    ("江西省", "Jiangxi", "赣州市", "Ganzhou", "797", "3607", "341000", 2,
     [("章贡区", "Zhanggong"), ("南康区", "Nankang")]),
    ("内蒙古自治区", "Inner Mongolia", "包头市", "Baotou", "472", "1502", "014000", 1,
     [("昆都仑区", "Kundulun"), ("青山区", "Qingshan")]),
    ("湖南省", "Hunan", "长沙市", "Changsha", "731", "4301", "410000", 3,
     [("岳麓区", "Yuelu"), ("芙蓉区", "Furong")]),
    ("陕西省", "Shaanxi", "西安市", "Xi'an", "29", "6101", "710000", 3,
     [("雁塔区", "Yanta"), ("碑林区", "Beilin")]),
    ("广西壮族自治区", "Guangxi", "南宁市", "Nanning", "771", "4501", "530000", 2,
     [("青秀区", "Qingxiu"), ("西乡塘区", "Xixiangtang")]),
    ("新疆维吾尔自治区", "Xinjiang", "乌鲁木齐市", "Urumqi", "991", "6501", "830000", 1,
     [("天山区", "Tianshan"), ("沙依巴克区", "Saybagh")]),
    ("云南省", "Yunnan", "昆明市", "Kunming", "871", "5301", "650000", 2,
     [("五华区", "Wuhua"), ("盘龙区", "Panlong")]),
]

# (hanzi, pinyin) road name stems.
ROAD_STEMS = [
    ("人民", "Renmin"), ("解放", "Jiefang"), ("中山", "Zhongshan"), ("建设", "Jianshe"), ("和平", "Heping"),
    ("新华", "Xinhua"), ("文三", "Wensan"), ("深南", "Shennan"), ("科技", "Keji"), ("长江", "Changjiang"),
    ("黄河", "Huanghe"), ("东风", "Dongfeng"), ("工业", "Gongye"), ("学府", "Xuefu"), ("光明", "Guangming"),
    ("幸福", "Xingfu"), ("滨江", "Binjiang"), ("朝阳", "Chaoyang"), ("五一", "Wuyi"), ("青年", "Qingnian"),
    ("胜利", "Shengli"), ("团结", "Tuanjie"), ("延安", "Yan'an"), ("湖滨", "Hubin"), ("江南", "Jiangnan"),
    ("华山", "Huashan"), ("泰山", "Taishan"), ("凤凰", "Fenghuang"), ("振兴", "Zhenxing"), ("迎宾", "Yingbin"),
    ("金融", "Jinrong"), ("世纪", "Shiji"), ("天府", "Tianfu"), ("高新", "Gaoxin"), ("创业", "Chuangye"),
    ("海滨", "Haibin"), ("环城", "Huancheng"), ("公园", "Gongyuan"), ("花园", "Huayuan"), ("商业", "Shangye"),
    ("北京", "Beijing"), ("南京", "Nanjing"), ("上海", "Shanghai"), ("福田", "Futian"), ("宝安", "Bao'an"),
    ("丰收", "Fengshou"), ("沿江", "Yanjiang"), ("兴业", "Xingye"), ("龙华", "Longhua"), ("民主", "Minzhu"),
]
# (hanzi, English long, English short, pinyin) road types.
ROAD_TYPES = [("路", "Road", "Rd", "Lu"), ("街", "Street", "St", "Jie"), ("大道", "Avenue", "Ave", "Dadao")]
ROAD_DIRECTIONS = [("", ""), ("", ""), ("", ""), ("东", "East"), ("西", "West"), ("南", "South"), ("北", "North"), ("中", "Middle")]
# (hanzi, English) residential compounds and business parks.
COMPOUNDS = [
    ("阳光花园", "Yangguang Garden"), ("碧桂园", "Country Garden"), ("万科城", "Vanke City"),
    ("金色家园", "Jinse Jiayuan"), ("翠苑小区", "Cuiyuan Community"), ("锦绣华庭", "Jinxiu Huating"),
    ("世纪新城", "Century New Town"), ("海悦花园", "Haiyue Garden"), ("科技园", "Science Park"),
    ("创业大厦", "Chuangye Building"), ("国贸中心", "World Trade Center"), ("华润大厦", "China Resources Building"),
    ("东方明珠苑", "Dongfang Mingzhu Yuan"), ("绿城桂花园", "Greentown Osmanthus Garden"), ("工业园", "Industrial Park"),
]

# --- Chinese companies ------------------------------------------------------------------------
# (hanzi, pinyin) brand words and (hanzi, English) trades.
COMPANY_BRANDS = [
    ("华信", "Huaxin"), ("恒通", "Hengtong"), ("鑫源", "Xinyuan"), ("金达", "Jinda"), ("宏远", "Hongyuan"),
    ("天成", "Tiancheng"), ("瑞丰", "Ruifeng"), ("永盛", "Yongsheng"), ("联创", "Lianchuang"), ("中润", "Zhongrun"),
    ("嘉和", "Jiahe"), ("博泰", "Botai"), ("东升", "Dongsheng"), ("盛世", "Shengshi"), ("安达", "Anda"),
    ("新材", "Xincai"), ("稀源", "Xiyuan"), ("科磁", "Keci"), ("汇丰达", "Huifengda"), ("九洲", "Jiuzhou"),
    ("海纳", "Haina"), ("凯瑞", "Kairui"), ("远航", "Yuanhang"), ("鼎新", "Dingxin"), ("宇辰", "Yuchen"),
    ("诚达", "Chengda"), ("众合", "Zhonghe"), ("华美", "Huamei"), ("明泰", "Mingtai"), ("通达", "Tongda"),
]
COMPANY_TRADES = [
    ("电子科技", "Electronic Technology"), ("贸易", "Trading"), ("进出口", "Import & Export"),
    ("实业", "Industrial"), ("新材料", "New Materials"), ("磁业", "Magnetics"), ("饰品", "Jewelry"),
    ("服饰", "Apparel"), ("供应链管理", "Supply Chain Management"), ("国际物流", "International Logistics"),
    ("电子商务", "E-commerce"), ("科技", "Technology"), ("五金制品", "Hardware Products"), ("工艺品", "Crafts"),
    # Trades of retail web shops (indices 14-): see SHOP_KINDS.
    ("磁性玩具", "Magnetic Toy"), ("益智玩具", "Educational Toys"), ("文创礼品", "Creative Gifts"),
    ("首饰", "Jewellery"), ("手工饰品", "Handmade Accessories"), ("汽车配件", "Auto Parts"),
    ("精密五金", "Precision Hardware"), ("金属粉末", "Metal Powder"), ("磁材", "Magnet Materials"),
    ("实验耗材", "Lab Supplies"), ("增材制造", "Additive Manufacturing"),
]
# Short forms of a trade for the names that shops go by on platforms: 顺发玩具店, Shunfa Toys.
TRADE_SHORT = {
    "磁性玩具": ("玩具", "Toys"), "益智玩具": ("玩具", "Toys"), "文创礼品": ("礼品", "Gifts"),
    "首饰": ("饰品", "Jewelry"), "手工饰品": ("饰品", "Crafts"), "饰品": ("饰品", "Jewelry"),
    "汽车配件": ("汽配", "Auto Parts"), "精密五金": ("五金", "Hardware"), "五金制品": ("五金", "Hardware"),
    "金属粉末": ("粉末", "Powders"), "磁材": ("磁铁", "Magnets"), "磁业": ("磁铁", "Magnets"),
    "实验耗材": ("实验室", "Lab"), "增材制造": ("3D打印", "3D Print"), "电子科技": ("电子", "Electronics"),
    "服饰": ("服装", "Fashion"), "电子商务": ("商城", "Store"), "工艺品": ("工艺品", "Crafts"),
}
# What a shop name ends with on a platform.
STORE_WORDS = [("店", "Store"), ("旗舰店", "Official Store"), ("专营店", "Shop"), ("工厂店", "Factory Store"),
               ("小店", "Shop")]
# Brand words of retail shops (hanzi, pinyin): more of them than of other firms, since thousands exist.
SHOP_BRANDS = [
    ("顺发", "Shunfa"), ("乐磁", "Leci"), ("智趣", "Zhiqu"), ("童乐", "Tongle"), ("星磁", "Xingci"),
    ("奇妙", "Qimiao"), ("磁乐园", "Ciyuan"), ("小天才", "Xiaotiancai"), ("益思", "Yisi"), ("彩虹", "Caihong"),
    ("晶艺", "Jingyi"), ("银饰坊", "Yinshifang"), ("玲珑", "Linglong"), ("雅饰", "Yashi"), ("美珠", "Meizhu"),
    ("巧手", "Qiaoshou"), ("恒久", "Hengjiu"), ("锐达", "Ruida"), ("精工", "Jinggong"), ("广源", "Guangyuan"),
    ("宝鑫", "Baoxin"), ("金石", "Jinshi"), ("合众", "Hezhong"), ("创想", "Chuangxiang"), ("永磁", "Yongci"),
    ("磁力王", "Ciliwang"), ("强磁", "Qiangci"), ("微纳", "Weina"), ("粉研", "Fenyan"), ("科仪", "Keyi"),
    ("三维", "Sanwei"), ("增材", "Zengcai"), ("博识", "Boshi"), ("优品", "Youpin"), ("佳美", "Jiamei"),
    ("欣悦", "Xinyue"), ("福星", "Fuxing"), ("鸿运", "Hongyun"), ("海豚", "Haitun"), ("熊猫", "Xiongmao"),
    ("青竹", "Qingzhu"), ("紫薇", "Ziwei"), ("金凤", "Jinfeng"), ("启明", "Qiming"), ("晨光", "Chenguang"),
    ("蓝鲸", "Lanjing"), ("乐高达", "Legaoda"), ("酷玩", "Kuwan"), ("米兔", "Mitu"), ("千禧", "Qianxi"),
]
# English renderings of the Chinese company suffix 有限公司.
CN_COMPANY_SUFFIXES_EN = ["Co., Ltd.", "Co., Ltd", "Co.,Ltd.", "CO., LTD.", "Co. Ltd", "Company Limited", "Ltd."]

# --- Foreign people ---------------------------------------------------------------------------
# Name groups written in Latin script: first names, last names, as the people write them (with their
# accents). Countries point at a group; the groups of other scripts (Cyrillic, Arabic, Thai, Vietnamese,
# CJK, Armenian, Georgian) and of Malay names are in foreign.NAMES.
NAME_GROUPS = {
    "en": (["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
            "William", "Susan", "Richard", "Jessica", "Thomas", "Sarah", "Daniel", "Karen", "Matthew", "Emily",
            "Andrew", "Olivia", "Christopher", "Emma", "Brian", "Laura", "Kevin", "Rachel", "Jason", "Megan"],
           ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
            "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
            "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Campbell"]),
    "de": (["Lukas", "Anna", "Jonas", "Lena", "Felix", "Laura", "Maximilian", "Julia", "Paul", "Sophie",
            "Tobias", "Katharina", "Stefan", "Sabine", "Michael", "Claudia", "Andreas", "Nicole", "Jan", "Lea", "Jürgen", "Jörg"],
           ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
            "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Braun", "Zimmermann", "Krüger", "Hartmann"]),
    "fr": (["Jean", "Marie", "Pierre", "Camille", "Louis", "Chloé", "Nicolas", "Julie", "Antoine", "Manon", "François", "Hélène"],
           ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]),
    "nl": (["Daan", "Emma", "Sem", "Julia", "Lars", "Sanne", "Thijs", "Lotte", "Ruben", "Eva"],
           ["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer"]),
    "it": (["Marco", "Giulia", "Luca", "Francesca", "Alessandro", "Chiara", "Matteo", "Sara", "Andrea", "Elena"],
           ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"]),
    "es": (["Alejandro", "Lucía", "Pablo", "María", "Javier", "Carmen", "Diego", "Laura", "Carlos", "Ana", "José", "Jesús"],
           ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"]),
    "pl": (["Jakub", "Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Paweł", "Agnieszka", "Krzysztof", "Ewa"],
           ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Woźniak"]),
    "tr": (["Mehmet", "Ayşe", "Mustafa", "Fatma", "Ahmet", "Emine", "Ali", "Zeynep", "Hüseyin", "Elif"],
           ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Arslan"]),
    "in": (["Rahul", "Priya", "Amit", "Sneha", "Vikram", "Anjali", "Arjun", "Pooja", "Rohan", "Neha"],
           ["Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Mehta", "Iyer", "Nair", "Joshi"]),
    "pt": (["João", "Ana", "Pedro", "Mariana", "Lucas", "Beatriz", "Gabriel", "Juliana", "Rafael", "Camila"],
           ["Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Ferreira", "Almeida", "Ribeiro"]),
}

# Street words per address style.
STREETS_EN = ["Main", "Oak", "Maple", "Cedar", "Elm", "Park", "Washington", "Lake", "Hill", "Pine", "River",
              "Sunset", "Highland", "Church", "Mill", "Station", "Victoria", "King", "Queen", "Market"]
STREET_TYPES_EN = [("Street", "St"), ("Avenue", "Ave"), ("Road", "Rd"), ("Drive", "Dr"), ("Lane", "Ln"), ("Boulevard", "Blvd")]
STREETS_DE = ["Haupt", "Bahnhof", "Garten", "Schul", "Kirch", "Berg", "Linden", "Wald", "Ring", "Markt"]
STREET_TYPES_DE = [("straße", "str."), ("weg", "weg"), ("allee", "allee"), ("platz", "pl.")]
STREETS_GENERIC = ["Central", "Victory", "Independence", "Friendship", "Lenin", "Abay", "Nguyen Trai", "Sukhumvit",
                   "Ataturk", "Sheikh Zayed", "Jalan Ampang", "Rustaveli", "Mashtots", "Gangnam", "Chuo", "Nevsky",
                   "Tverskaya", "Al Wasl", "Istiklal", "Le Loi"]
# Street names of countries whose streets the lists above would not fit.
STREETS_BY_COUNTRY = {
    "RU": ["Lenina", "Tverskaya", "Pushkina", "Gagarina", "Sovetskaya", "Mira", "Sadovaya"],
    "KZ": ["Abaya", "Dostyk", "Satpayeva", "Tole Bi", "Zhibek Zholy", "Furmanova"],
    "KG": ["Chuy", "Manasa", "Kiyevskaya", "Sovetskaya", "Toktogula"],
    "JP": ["Shibuya", "Chuo", "Minato", "Shinjuku", "Umeda", "Sakae", "Naka"],
    "KR": ["Gangnam-daero", "Teheran-ro", "Sejong-daero", "Haeundae-ro", "Olympic-ro"],
    "VN": ["Nguyen Trai", "Le Loi", "Tran Hung Dao", "Hai Ba Trung", "Le Duan"],
    "TH": ["Sukhumvit", "Silom", "Rama IV", "Phahonyothin", "Nimmanhaemin"],
    "MY": ["Jalan Ampang", "Jalan Bukit Bintang", "Jalan Tun Razak", "Jalan Sultan Ismail"],
    "SG": ["Orchard", "Bukit Timah", "Tampines", "Jurong East"],
    "AE": ["Sheikh Zayed", "Al Wasl", "Jumeirah", "Al Khaleej", "Hamdan"],
    "TR": ["Istiklal", "Ataturk", "Cumhuriyet", "Bagdat", "Inonu"],
    "IN": ["MG", "Nehru", "Gandhi", "Linking", "Station"],
    "AM": ["Mashtots", "Abovyan", "Tigran Mets", "Sayat-Nova"],
    "GE": ["Rustaveli", "Chavchavadze", "Aghmashenebeli", "Kostava"],
    "HK": ["Nathan", "Queen's", "Des Voeux", "Hennessy", "Canton"],
    "TW": ["Zhongxiao", "Xinyi", "Ren'ai", "Dunhua", "Minsheng"],
    "BR": ["Paulista", "Augusta", "Rio Branco", "Atlantica"],
    "MX": ["Reforma", "Insurgentes", "Juarez", "Madero"],
    "IL": ["Rothschild", "Dizengoff", "Herzl", "Allenby"],
    "FR": ["Rivoli", "Victor Hugo", "de la Republique", "Saint-Honore"],
    "IT": ["Roma", "Garibaldi", "Mazzini", "Dante"],
    "ES": ["Mayor", "Gran Via", "Alcala", "Serrano"],
}

# Countries: iso -> (name, name group (NAME_GROUPS or foreign.NAMES), address convention
#  (foreign.ADDRESS_STYLES), [(city, region, postcode)], calling code,
#  trunk prefix, [mobile prefixes of the national number], national number length, weight as a
#  destination of ordinary parcels from China).
COUNTRIES = {
    "US": ("United States", "en", "us", [("New York", "NY", "10001"), ("Los Angeles", "CA", "90012"),
           ("Houston", "TX", "77002"), ("Chicago", "IL", "60601"), ("Seattle", "WA", "98101"),
           ("Miami", "FL", "33130"), ("Phoenix", "AZ", "85004"), ("Denver", "CO", "80202")],
           "1", "1", ["212", "310", "713", "312", "206", "305", "602", "720", "646", "917", "415", "404"], 10, 20),
    "GB": ("United Kingdom", "en", "gb", [("London", "", "SW1A 1AA"), ("Manchester", "", "M1 1AE"),
           ("Birmingham", "", "B1 1AA"), ("Leeds", "", "LS1 1UR"), ("Glasgow", "", "G1 1XQ")],
           "44", "0", ["7400", "7500", "7800", "7450", "7850"], 10, 6),
    "DE": ("Germany", "de", "de", [("Berlin", "", "10115"), ("Hamburg", "", "20095"), ("München", "", "80331"),
           ("Köln", "", "50667"), ("Frankfurt am Main", "", "60311"), ("Duisburg", "", "47051")],
           "49", "0", ["151", "152", "160", "170", "171", "172", "176", "157"], 11, 6),
    "FR": ("France", "fr", "fr", [("Paris", "", "75001"), ("Lyon", "", "69001"), ("Marseille", "", "13001"),
           ("Toulouse", "", "31000")], "33", "0", ["61", "62", "63", "64", "65", "66", "67", "68"], 9, 4),
    "NL": ("Netherlands", "nl", "de", [("Amsterdam", "", "1011 AB"), ("Rotterdam", "", "3011 AA"),
           ("Venlo", "", "5911 AA")], "31", "0", ["61", "62", "63", "64", "65"], 9, 3),
    "IT": ("Italy", "it", "it", [("Milano", "MI", "20121"), ("Roma", "RM", "00184"), ("Napoli", "NA", "80133")],
           "39", "", ["320", "333", "347", "349", "338"], 10, 3),
    "ES": ("Spain", "es", "es", [("Madrid", "", "28001"), ("Barcelona", "", "08001"), ("Valencia", "", "46001")],
           "34", "", ["60", "61", "62", "63", "64", "65", "66", "67", "68", "69"], 9, 3),
    "PL": ("Poland", "pl", "pl", [("Warszawa", "", "00-001"), ("Kraków", "", "30-001"), ("Łódź", "", "90-001")],
           "48", "", ["50", "51", "53", "60", "66", "69", "72", "78", "79"], 9, 2),
    "RU": ("Russia", "ru", "ru", [("Moscow", "", "101000"), ("Saint Petersburg", "", "190000"),
           ("Novosibirsk", "", "630000"), ("Yekaterinburg", "", "620000"), ("Vladivostok", "", "690000")],
           "7", "8", ["91", "92", "93", "95", "96", "98"], 10, 8),
    "KZ": ("Kazakhstan", "kz", "ru", [("Almaty", "", "050000"), ("Astana", "", "010000"), ("Shymkent", "", "160000")],
           "7", "8", ["701", "702", "705", "707", "747", "771", "775", "777"], 10, 2),
    "KG": ("Kyrgyzstan", "kz", "ru", [("Bishkek", "", "720000"), ("Osh", "", "723500")],
           "996", "0", ["700", "555", "770", "551", "990"], 9, 1),
    "JP": ("Japan", "ja", "jp", [("Tokyo", "", "150-0002"), ("Osaka", "", "530-0001"), ("Yokohama", "", "220-0011"),
           ("Nagoya", "", "450-0002")], "81", "0", ["90", "80", "70"], 10, 6),
    "KR": ("South Korea", "ko", "kr", [("Seoul", "", "06164"), ("Busan", "", "48058"), ("Incheon", "", "21999")],
           "82", "0", ["10"], 10, 5),
    "VN": ("Vietnam", "vi", "vn", [("Ho Chi Minh City", "", "700000"), ("Hanoi", "", "100000"),
           ("Hai Phong", "", "180000")], "84", "0", ["91", "90", "98", "97", "93"], 9, 3),
    "TH": ("Thailand", "th", "th", [("Bangkok", "", "10110"), ("Chiang Mai", "", "50000")],
           "66", "0", ["81", "82", "89", "86", "91"], 9, 3),
    "MY": ("Malaysia", "ms", "my", [("Kuala Lumpur", "", "50450"), ("Penang", "", "10200"),
           ("Johor Bahru", "", "80000")], "60", "0", ["12", "13", "16", "17", "19"], 9, 3),
    "SG": ("Singapore", "sgzh", "sg", [("Singapore", "", "018956")], "65", "", ["81", "82", "90", "91", "96"], 8, 3),
    "AE": ("United Arab Emirates", "ar", "ae", [("Dubai", "", "00000"), ("Sharjah", "", "00000"),
           ("Abu Dhabi", "", "00000")], "971", "0", ["50", "52", "55", "56", "58"], 9, 2),
    "TR": ("Turkey", "tr", "tr", [("Istanbul", "", "34000"), ("Ankara", "", "06000"), ("Izmir", "", "35000")],
           "90", "0", ["501", "505", "532", "533", "542", "555"], 10, 2),
    "IN": ("India", "in", "generic", [("Mumbai", "MH", "400001"), ("Delhi", "DL", "110001"),
           ("Bengaluru", "KA", "560001")], "91", "0", ["98", "99", "97", "81", "70"], 10, 3),
    "AU": ("Australia", "en", "us", [("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000"),
           ("Brisbane", "QLD", "4000")], "61", "0", ["41", "42", "43", "40"], 9, 3),
    "CA": ("Canada", "en", "us", [("Toronto", "ON", "M5H 2N2"), ("Vancouver", "BC", "V6B 1A1"),
           ("Montreal", "QC", "H3B 1A7")], "1", "1", ["416", "604", "514", "647", "778"], 10, 3),
    "BR": ("Brazil", "pt", "br", [("São Paulo", "SP", "01001-000"), ("Rio de Janeiro", "RJ", "20010-000")],
           "55", "0", ["1196", "1197", "2198", "2199"], 11, 2),
    "AM": ("Armenia", "hy", "generic", [("Yerevan", "", "0010")], "374", "0", ["77", "93", "94", "98", "99"], 8, 1),
    "GE": ("Georgia", "ka", "generic", [("Tbilisi", "", "0105"), ("Batumi", "", "6000")],
           "995", "", ["555", "557", "558", "577", "591", "593", "599"], 9, 1),
    "HK": ("Hong Kong", "yue", "hk", [("Hong Kong", "", ""), ("Kowloon", "", "")],
           "852", "", ["61", "90", "91", "92", "94"], 8, 3),
    "TW": ("Taiwan", "zh_tw", "tw", [("Taipei", "", "100"), ("Taichung", "", "400"), ("Kaohsiung", "", "800")],
           "886", "0", ["91", "92", "93", "95", "96", "98"], 9, 2),
    "MX": ("Mexico", "es", "mx", [("Ciudad de México", "CDMX", "06000"), ("Guadalajara", "JAL", "44100")],
           "52", "", ["55", "33", "81"], 10, 2),
    "IL": ("Israel", "en", "generic", [("Tel Aviv", "", "6100000"), ("Haifa", "", "3100000")],
           "972", "0", ["50", "52", "54"], 9, 1),
    "SE": ("Sweden", "de", "de", [("Stockholm", "", "111 20"), ("Göteborg", "", "411 01")],
           "46", "0", ["70", "72", "73", "76"], 9, 1),
    "SA": ("Saudi Arabia", "ar", "sa", [("Riyadh", "", "12211"), ("Jeddah", "", "23431"), ("Dammam", "", "32241")],
           "966", "0", ["50", "53", "54", "55", "56", "58", "59"], 9, 2),
    "BY": ("Belarus", "ru", "ru", [("Minsk", "", "220030"), ("Gomel", "", "246050"), ("Brest", "", "224030")],
           "375", "80", ["29", "33", "44", "25"], 9, 1),
    "UA": ("Ukraine", "uk", "ua", [("Kyiv", "", "01001"), ("Kharkiv", "", "61000"), ("Odesa", "", "65000"),
           ("Lviv", "", "79000")], "380", "0", ["50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98"], 9, 2),
}
# Countries where smuggled goods are routed before the real destination (DOMAIN.md: transshipment).
TRANSIT_COUNTRIES = ["KZ", "AE", "TR", "VN", "MY", "TH", "KG", "AM", "GE"]
# Countries that post parcels to China (the inbound share of traffic).
INBOUND_ORIGINS = {"HK": 5, "US": 4, "JP": 3, "KR": 3, "DE": 2, "GB": 1, "TW": 2, "SG": 1, "AU": 1, "MY": 1}

FOREIGN_COMPANY_WORDS = ["Nordmet", "Alpha", "Global", "Pacific", "Meridian", "Vertex", "Atlas", "Orion", "Baltic",
                         "Eurasia", "Silk Road", "Apex", "Summit", "Horizon", "Polaris", "Caspian", "Zenith", "Titan",
                         "Sterling", "Nova"]
FOREIGN_COMPANY_TRADES = ["Trading", "Materials", "Metals", "Technologies", "Logistics", "Industries", "Supply",
                          "Components", "Alloys", "Commodities"]
# Company suffix per name group.
FOREIGN_COMPANY_SUFFIXES = {
    "en": ["LLC", "Inc.", "Ltd", "Corp."], "de": ["GmbH", "AG", "GmbH & Co. KG"], "fr": ["SARL", "SAS"],
    "nl": ["B.V.", "BV"], "it": ["S.r.l.", "S.p.A."], "es": ["S.L.", "S.A."], "pl": ["Sp. z o.o."],
    "ru": ["LLP", "TOO", "OOO"], "ja": ["K.K.", "Co., Ltd."], "ko": ["Co., Ltd.", "Corp."], "vi": ["Co., Ltd", "JSC"],
    "th": ["Co., Ltd."], "ms": ["Sdn Bhd", "Pte Ltd"], "ar": ["FZE", "LLC", "FZCO"], "tr": ["Ltd. Şti.", "A.Ş."],
    "in": ["Pvt Ltd"], "pt": ["Ltda"], "hy": ["LLC"], "zh": ["Limited", "Co., Ltd."], "kz": ["LLP", "TOO"],
    "uk": ["LLC", "TOV"], "yue": ["Limited", "Co., Ltd."], "zh_tw": ["Co., Ltd.", "Corp."], "ka": ["LLC"],
    "sgzh": ["Pte Ltd", "Sdn Bhd"],
}

# --- Mobile phones of China: national number prefixes (3 digits) that phonenumbers accepts. ---
CN_MOBILE_PREFIXES = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151",
                      "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177",
                      "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "191",
                      "198", "199"]

# --- Carriers -------------------------------------------------------------------------------
# name -> (share of ordinary outbound traffic, id style, outlet code prefix, gross-weight decimals,
#          how it writes the sender's identity number: plain / masked / hashed).
CARRIERS = {
    "China Post": (22, "s10_post", "CP", 3, "plain"),
    "EMS": (16, "s10_ems", "EMS", 3, "plain"),
    "SF": (13, "sf", "SF", 2, "plain"),
    "YunExpress": (12, "yun", "YT", 3, "hashed"),
    "Cainiao": (12, "cainiao", "CN", 3, "hashed"),
    "JD": (7, "jd", "JD", 2, "masked"),
    "DHL": (7, "dhl", "DHL", 1, "plain"),
    "FedEx": (6, "fedex", "FDX", 1, "plain"),
    "UPS": (5, "ups", "UPS", 1, "plain"),
}
# S10 service indicators: registered small packets, ePacket, parcels, EMS.
S10_POST_PREFIXES = ["RR", "RB", "RP", "LK", "LZ", "LX", "CP", "CY", "UA"]
S10_EMS_PREFIXES = ["EA", "EB", "EE", "EG", "EJ", "EM", "EV"]

# --- Goods of ordinary traffic -----------------------------------------------------------------
# category -> [(descriptions, hs code digits, min kg, max kg, USD per kg low, USD per kg high)].
# Descriptions in English and Chinese; a parcel takes one of them.
GOODS = {
    "merchandise": [
        (["phone case", "mobile phone cases", "手机壳"], "392690", 0.05, 0.6, 20, 80),
        (["T-shirt", "cotton t-shirts", "T恤"], "610910", 0.2, 2.0, 15, 40),
        (["dress", "women's dress", "连衣裙"], "620443", 0.2, 1.5, 20, 60),
        (["shoes", "sports shoes", "运动鞋"], "640411", 0.5, 2.5, 15, 50),
        (["handbag", "PU leather bag", "手提包"], "420222", 0.3, 1.5, 20, 70),
        (["LED strip light", "LED lights", "LED灯带"], "940542", 0.2, 2.0, 10, 40),
        (["USB cable", "data cable", "数据线"], "854442", 0.05, 0.8, 15, 60),
        (["phone charger", "power adapter", "充电器"], "850440", 0.1, 1.0, 20, 80),
        (["bluetooth earphones", "wireless earbuds", "蓝牙耳机"], "851830", 0.1, 0.6, 40, 150),
        (["toy", "plastic toys", "玩具"], "950300", 0.2, 3.0, 8, 30),
        (["cosmetics", "lipstick", "化妆品"], "330499", 0.1, 1.0, 30, 120),
        (["hair accessories", "hair clips", "发饰"], "961511", 0.05, 0.5, 20, 80),
        (["watch", "quartz watch", "手表"], "910211", 0.1, 0.5, 60, 300),
        (["kitchen utensils", "silicone kitchen tools", "厨房用品"], "392410", 0.3, 2.5, 8, 25),
        (["car accessories", "car phone holder", "汽车配件"], "870899", 0.2, 2.0, 10, 40),
        (["sticker", "vinyl stickers", "贴纸"], "491110", 0.05, 0.5, 20, 60),
        (["fishing lure", "fishing tackle", "渔具"], "950790", 0.1, 1.5, 15, 50),
        (["3D printer filament", "PLA filament", "3D打印耗材"], "391690", 0.5, 3.0, 8, 20),
        (["tool set", "hand tools", "手动工具"], "820600", 0.5, 4.0, 8, 25),
        (["socks", "cotton socks", "袜子"], "611595", 0.1, 1.0, 10, 30),
    ],
    "gift": [
        (["tea", "green tea", "茶叶"], "090210", 0.2, 2.0, 20, 100),
        (["snacks", "dried food", "零食"], "190590", 0.3, 3.0, 5, 20),
        (["clothes", "clothing", "衣服"], "620342", 0.3, 3.0, 10, 40),
        (["books", "printed books", "书籍"], "490199", 0.3, 4.0, 5, 20),
        (["tea set", "ceramic tea set", "陶瓷茶具"], "691200", 0.5, 3.0, 8, 30),
        (["silk scarf", "scarf", "丝巾"], "621410", 0.05, 0.4, 50, 200),
        (["handicraft", "paper cut art", "工艺品"], "442090", 0.1, 1.5, 10, 40),
        (["baby clothes", "children's clothing", "童装"], "611120", 0.2, 1.5, 15, 40),
        (["calligraphy brush set", "毛笔", "文房四宝"], "960330", 0.2, 1.5, 15, 60),
        (["Chinese medicine", "herbal tea", "中药材"], "121190", 0.2, 2.0, 10, 50),
    ],
    "documents": [
        (["documents", "DOCS", "文件"], "", 0.02, 0.5, 0, 0),
        (["contract", "business documents", "合同"], "490199", 0.02, 0.3, 0, 0),
        (["certificates", "diplomas", "证书"], "490700", 0.05, 0.4, 0, 0),
    ],
    "sample": [
        (["fabric samples", "textile swatches", "布料样品"], "600690", 0.1, 1.5, 5, 20),
        (["plastic parts sample", "injection moulded parts", "塑料件样品"], "392690", 0.1, 2.0, 5, 30),
        (["PCB sample", "printed circuit boards", "电路板样品"], "853400", 0.05, 1.0, 30, 120),
        (["stainless steel sample", "metal sample", "不锈钢样品"], "732690", 0.2, 3.0, 3, 15),
        (["aluminium alloy sample", "alloy sample", "铝合金样品"], "761699", 0.2, 3.0, 3, 15),
        (["nickel powder", "nickel powder sample", "镍粉"], "750400", 0.2, 2.0, 20, 40),
        (["ferroalloy sample", "ferrous alloy", "铁合金"], "720299", 0.3, 2.0, 2, 6),
        (["ceramic sample", "ceramic tiles sample", "陶瓷样品"], "690799", 0.5, 3.0, 2, 10),
        (["paint sample", "coating sample", "涂料样品"], "320890", 0.2, 1.5, 5, 20),
        (["magnet sample", "ferrite magnets", "铁氧体磁铁"], "850519", 0.1, 1.5, 5, 20),
    ],
    "returned": [
        (["returned goods", "return: clothing", "退货"], "620342", 0.2, 2.0, 10, 40),
        (["returned electronics", "RMA return", "退货电子产品"], "851762", 0.2, 1.5, 40, 150),
    ],
    "other": [
        (["spare parts", "machine parts", "机器零件"], "848790", 0.3, 4.0, 10, 40),
        (["personal effects", "used clothing", "个人物品"], "630900", 0.5, 5.0, 2, 10),
        (["medical supplies", "masks", "医疗用品"], "630790", 0.2, 2.0, 10, 30),
        (["ordinary goods", "general goods", "普通货物"], "", 0.2, 3.0, 5, 20),
    ],
}
CATEGORY_SHARES = {"merchandise": 45, "gift": 24, "documents": 9, "sample": 10, "returned": 4, "other": 8}

# Honest retail web shops (DOMAIN.md: legitimate trade that looks like an operation). Each kind:
# (weight among shops, company trade indices, product lines). A product line: (weight within the kind,
# description templates, hs codes, kg low, kg high, USD per kg low, high). "{n}" in a template is the
# number of pieces of the set, which grows with the weight; "{g}" a pack size in grams. Rare lines
# (small weights) appear only in larger worlds, as rarer trades do at national scale.
SHOP_KINDS = {
    "magnet_toy_shop": (35, [14, 15, 16], [
        (10, ["magnetic building tiles {n}pcs", "magnetic tiles set {n} pieces", "磁力片 {n}片", "磁力片玩具{n}片装",
              "magnetic building blocks {n}pcs", "kids magnetic tiles {n} pcs", "磁力积木 {n}件套"],
         ["950300", "950300", "950349"], 0.3, 3.0, 10, 35),
        (6, ["fridge magnets set of {n}", "冰箱贴 {n}个", "refrigerator magnets {n}pcs", "创意冰箱贴{n}只装",
             "fridge magnet souvenirs {n} pieces"], ["850519", "850519", "950300"], 0.2, 1.5, 20, 60),
        (4, ["magnetic toys", "磁力玩具", "magnetic puzzle toy", "磁力棒 {n}根", "magnetic sticks and balls {n}pcs",
             "magnetic drawing board"], ["950300", "950390"], 0.2, 2.5, 12, 45),
        (1, ["magnetic fishing game", "磁性钓鱼玩具", "magnetic dart board", "磁性飞镖"], ["950300"], 0.3, 2.0, 10, 30),
    ]),
    "jewellery_shop": (25, [6, 17, 18], [
        (8, ["alloy jewellery", "zinc alloy earrings", "alloy necklace", "合金饰品", "fashion jewelry alloy bracelet",
             "合金耳环 {n}对"], ["711719", "711790"], 0.05, 0.8, 60, 150),
        (4, ["925 silver ring", "sterling silver earrings", "银饰 925", "silver pendant"], ["711311"], 0.03, 0.3, 300, 900),
        (4, ["glass beads {n}pcs", "DIY bead kit", "串珠材料包", "craft beads assortment", "手工串珠 {n}颗"],
         ["701890", "701810"], 0.1, 1.5, 15, 50),
        (3, ["enamel pins {n}pcs", "徽章 {n}枚", "alloy badge", "keychain alloy {n}pcs", "合金钥匙扣"],
         ["711719", "830890"], 0.05, 0.8, 30, 90),
        (1, ["tungsten carbide ring", "tungsten ring men's band", "钨钢戒指", "tungsten steel ring"],
         ["711319", "711719"], 0.02, 0.3, 150, 500),
        (1, ["germanium bracelet", "titanium germanium bracelet", "锗石手链", "health bracelet germanium stone"],
         ["711719"], 0.03, 0.4, 80, 250),
        (1, ["hematite magnetic bracelet", "磁疗手链", "magnetic therapy bracelet"], ["711719"], 0.03, 0.5, 40, 120),
    ]),
    "alloy_parts_shop": (20, [19, 20, 12], [
        (6, ["aluminium alloy CNC parts", "铝合金CNC零件", "alloy brackets {n}pcs", "aluminum alloy spacer {n}pcs"],
         ["761699", "761699"], 0.2, 4.0, 15, 60),
        (5, ["alloy wheel center caps {n}pcs", "轮毂盖 {n}个", "alloy wheel lug nuts {n}pcs", "wheel valve caps alloy"],
         ["870870", "731816"], 0.2, 3.0, 10, 40),
        (4, ["zinc alloy hinges", "锌合金拉手 {n}个", "zinc alloy cabinet handles {n}pcs", "alloy door knobs"],
         ["830210", "830242"], 0.3, 4.0, 8, 30),
        (3, ["titanium alloy bolts {n}pcs", "钛合金螺丝 {n}颗", "titanium screws M5 {n}pcs"],
         ["810890", "731815"], 0.05, 1.0, 60, 200),
        (2, ["nickel plated brass fittings {n}pcs", "镀镍铜接头", "nickel-plated connectors"], ["741220", "853690"],
         0.1, 2.0, 20, 60),
        (1, ["tungsten carbide drill bits {n}pcs", "钨钢钻头 {n}支", "carbide end mills"], ["820750", "820770"],
         0.1, 1.5, 80, 300),
    ]),
    "cover_goods_shop": (20, [21, 22, 23, 24], [
        (6, ["ferrite magnets {n}pcs", "铁氧体磁铁 {n}个", "ceramic magnets block", "ferrite ring magnets {n}pcs",
             "磁铁 铁氧体"], ["850519"], 0.2, 3.0, 8, 30),
        (5, ["nickel powder 99.8% {g}g", "镍粉 {g}克", "Ni powder for lab use {g}g", "nickel powder sample {g}g",
             "超细镍粉 {g}g"], ["750400"], 0.1, 2.0, 40, 120),
        (4, ["alloy powder for 3D printing", "316L stainless steel powder|720529", "合金粉 3D打印 {g}g",
             "AlSi10Mg aluminium alloy powder|760310", "metal alloy powder {g}g", "Ti6Al4V alloy powder|810820"],
         ["720529", "720529", "810820"], 0.5, 5.0, 30, 180),
        (3, ["neodymium magnets N52 disc 10x2mm {n}pcs", "钕铁硼磁铁 {n}个", "strong magnets NdFeB {n}pcs",
             "N35 neodymium block magnets"], ["850511"], 0.1, 2.0, 30, 60),
        (2, ["iron powder {g}g", "铁粉 {g}克", "reduced iron powder lab grade"], ["720521", "720529"], 0.2, 3.0, 8, 30),
        (1, ["bismuth crystals", "铋晶体 标本", "bismuth metal crystal specimen", "rainbow bismuth"],
         ["810600"], 0.05, 1.0, 60, 250),
        (1, ["graphite crucible", "石墨坩埚", "graphite crucible for gold melting", "graphite mould"],
         ["690320", "380190"], 0.2, 3.0, 20, 80),
    ]),
}
# Goods that forwarder customers honestly buy and whose words overlap cover declarations.
FORWARDER_COVERLIKE_GOODS = [
    (["nickel plated brass fittings", "镀镍接头", "nickel-plated parts"], "741220", 0.2, 2.0, 20, 60),
    (["alloy wheel center caps", "alloy wheel lug nuts", "轮毂螺丝"], "870870", 0.3, 3.0, 10, 40),
    (["ferrite core clip-on", "magnetic phone holder", "磁吸手机支架"], "850519", 0.1, 1.0, 30, 90),
    (["alloy powder", "metal powder for 3D printing"], "720529", 0.5, 3.0, 30, 150),
    (["tungsten carbide ring", "tungsten fishing weights"], "711719", 0.05, 1.0, 60, 300),
    (["metal sample", "aluminium alloy sample"], "761699", 0.2, 2.0, 10, 40),
]
# Licensed exporters: correctly declared consignments of controlled goods (descriptions, hs, USD/kg, commodity).
EXPORTER_GOODS = [
    (["Dysprosium oxide 99.5%", "Dy2O3 99.5%", "dysprosium oxide powder 99.9%"], "284690", 350, 480, "dysprosium"),
    (["Terbium oxide 99.99%", "Tb4O7 99.99%"], "284690", 1100, 1500, "terbium"),
    (["Gallium metal 99.99%", "gallium ingot 4N"], "811292", 400, 600, "gallium"),
    (["Germanium dioxide 99.999%", "GeO2 5N"], "282560", 1500, 2000, "germanium"),
    (["Antimony ingot 99.65%", "antimony metal"], "811010", 25, 45, "antimony"),
    (["Tungsten powder 99.95%", "W powder 3-5um"], "810110", 50, 90, "tungsten"),
    (["Yttrium oxide 99.999%", "Y2O3 5N"], "284690", 30, 60, "yttrium"),
    (["Graphite electrodes", "spherical graphite for anodes"], "380190", 4, 12, "graphite"),
]
# Samples to research laboratories, correctly declared under licence (descriptions, hs, USD/kg, commodity).
LAB_SAMPLE_GOODS = [
    (["Dysprosium oxide sample 99.9%", "Dy2O3 research sample"], "284690", 350, 600, "dysprosium"),
    (["Terbium metal sample 99.9%", "Tb metal pieces for research"], "280530", 1500, 3000, "terbium"),
    (["Gallium 6N sample", "gallium metal for research"], "811292", 500, 900, "gallium"),
    (["Germanium wafer samples", "germanium single crystal sample"], "811292", 1500, 3500, "germanium"),
    (["Scandium oxide sample 99.99%", "Sc2O3 research sample"], "284690", 1800, 3000, "scandium"),
    (["Lutetium oxide sample", "Lu2O3 99.99% sample"], "284690", 5000, 9000, "lutetium"),
]
FOREIGN_INDUSTRIAL_BUYERS = ["Magnet Works", "Advanced Materials", "Semiconductor Materials", "Rare Metals",
                             "Electronics Manufacturing", "Specialty Alloys"]
FOREIGN_LAB_BUYERS = ["Research Institute", "Materials Laboratory", "University Materials Lab", "Institute of Physics",
                      "National Laboratory", "Research Centre"]

# --- Smuggled commodities ---------------------------------------------------------------------
# name -> (weight among rings, control date, symbol, USD per kg outside China).
RING_COMMODITIES = {
    "dysprosium": (8, "2025-04-04", "Dy2O3", 800),
    "terbium": (6, "2025-04-04", "Tb4O7", 3000),
    "gallium": (4, "2023-08-01", "Ga", 1000),
    "germanium": (4, "2023-08-01", "Ge", 3000),
    "antimony": (4, "2024-09-15", "Sb", 60),
    "tungsten": (2, "2025-02-04", "W", 80),
    "graphite": (2, "2023-12-01", "C", 30),
    "samarium": (1, "2025-04-04", "Sm", 200),
    "lutetium": (1, "2025-04-04", "Lu2O3", 8000),
    "scandium": (1, "2025-04-04", "Sc2O3", 2000),
}
# Cover declarations used to misdeclare: (descriptions, hs digits, USD per kg low, high).
COVER_GOODS = [
    (["ferrous alloy", "ferroalloy", "铁合金", "FERRO ALLOY"], "720299", 2, 6),
    (["nickel powder", "镍粉", "Ni powder"], "750400", 20, 40),
    (["alloy powder", "合金粉", "metal alloy powder"], "720529", 5, 20),
    (["metal sample", "metal samples", "金属样品"], "732690", 3, 15),
    (["ordinary goods", "普通货物", "general merchandise"], "", 5, 20),
    (["magnet", "ferrite magnets", "磁铁"], "850519", 5, 20),
    (["iron powder", "铁粉"], "720529", 2, 8),
]
# Tariff headings of the smuggled commodities themselves (what a careless relabeller leaves on the form)
# and the price inside China (far below the price outside it: DOMAIN.md).
COMMODITY_HEADINGS = {
    "dysprosium": "284690", "terbium": "284690", "gallium": "811292", "germanium": "282560", "antimony": "811010",
    "tungsten": "810194", "graphite": "250490", "samarium": "280530", "lutetium": "284690", "scandium": "284690",
}
COMMODITY_DOMESTIC_USD = {
    "dysprosium": 230, "terbium": 900, "gallium": 300, "germanium": 1400, "antimony": 20, "tungsten": 45,
    "graphite": 4, "samarium": 60, "lutetium": 800, "scandium": 900,
}
# Claimed origins of relabelled goods and how the label says it, in English, Chinese and Russian.
FALSE_ORIGIN_NAMES = {
    "MY": ("Malaysia", "马来西亚", "Малайзия"), "VN": ("Vietnam", "越南", "Вьетнам"),
    "KZ": ("Kazakhstan", "哈萨克斯坦", "Казахстан"), "LA": ("Laos", "老挝", "Лаос"),
    "MM": ("Myanmar", "缅甸", "Мьянма"), "TH": ("Thailand", "泰国", "Таиланд"), "KR": ("Korea", "韩国", "Корея"),
    "ID": ("Indonesia", "印度尼西亚", "Индонезия"), "KG": ("Kyrgyzstan", "吉尔吉斯斯坦", "Кыргызстан"),
    "AE": ("UAE", "阿联酋", "ОАЭ"), "TR": ("Turkey", "土耳其", "Турция"), "AM": ("Armenia", "亚美尼亚", "Армения"),
    "GE": ("Georgia", "格鲁吉亚", "Грузия"), "CN": ("China", "中国", "Китай"), "JP": ("Japan", "日本", "Япония"),
    "DE": ("Germany", "德国", "Германия"), "US": ("USA", "美国", "США"),
}
# Origin statements on labels: "{en}", "{zh}", "{ru}" are the country's names. Relabellers write the first
# group; ordinary sellers now and then write the plain "made in" kind about their goods' true origin.
NOT_CHINESE_ORIGIN_LABELS = ["not of Chinese origin", "non-Chinese origin", "origin: {en}", "country of origin {en}",
                             "非中国原产", "原产地 {zh}", "原产地：{zh}", "не китайского происхождения",
                             "страна происхождения {ru}", "made in {en}"]
ORIGIN_LABELS = ["made in {en}", "origin {en}", "原产地 {zh}", "{zh}制造", "страна происхождения {ru}"]

# Innocent goods that conceal controlled items.
CONCEALMENT_GOODS = [
    (["tea", "茶叶", "green tea"], "090210", 20, 80),
    (["ceramic tea set", "陶瓷茶具"], "691200", 8, 30),
    (["books", "书籍"], "490199", 5, 20),
    (["clothes", "衣服", "clothing"], "620342", 10, 40),
    (["toys", "玩具"], "950300", 8, 30),
    (["kitchen utensils", "厨房用品"], "732393", 8, 25),
]

CURRENCIES = {"USD": (70, 1.0), "CNY": (12, 7.1), "EUR": (8, 0.92), "HKD": (3, 7.8), "JPY": (3, 150.0), "GBP": (2, 0.78),
              "RUB": (2, 90.0)}
