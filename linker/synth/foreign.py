"""Word lists of foreign people and places in their own scripts, for `linker.synth`.

Consignees abroad write their names and addresses on CN23 labels the way they are used to: Russians,
Belarusians, Kazakhs and Kyrgyz in Cyrillic or in Latin under one of the several romanisations in use
(passport, BGN, "English" spellings typed by hand: Юрий / Yuriy / Yuri / Iurii), Ukrainians in
Ukrainian Cyrillic or its romanisations, Vietnamese with or without diacritics, Gulf Arabs in Arabic
script or in one of many Latin spellings (محمد / Mohammed / Muhammad / Mohamed; al-, Al, El), Thais in
Thai script or Latin, Japanese, Koreans and Chinese of Hong Kong and Taiwan in their characters or in
their own romanisations (Hepburn, Revised Romanisation, Cantonese, Wade-Giles), Europeans with their
accents or without (José / Jose, Müller / Mueller / Muller).

Name entries are strings: "native|latin/latin|g" (g: m or f, only where the name's gender matters
for the family name or the middle name), or "native" alone for names in Latin script (their ASCII
forms are derived). Family names are in their male (base) form; `female` says how the female form is
made. Address entries: streets and places as "latin|native" or native alone where the script is Latin.
"""

from __future__ import annotations

# --- Name forms -------------------------------------------------------------------------------
# How a foreign person's name may be written (ids are used in `linker.synth`). G, F, M: given,
# family and middle name (patronymic, Vietnamese middle name, father's name) in the person's main
# Latin spelling; G2, F2, M2: in another spelling of theirs; NG, NF, NM: in their own script (for
# Latin-script names: with the accents); NFG: family and given name run together as CJK names are;
# FU: the family name in capitals; Gi: the given name's initial. A form with a middle name drops it
# when the person has none.
NAME_FORMS = {
    0: ("G F", ""), 1: ("FU G", ""), 2: ("F, G", ""), 3: ("G F", "upper"), 4: ("G F", "lower"),
    5: ("Gi. F", ""), 6: ("F G", ""), 7: ("F G", "upper"), 8: ("G2 F2", ""), 9: ("F2 G2", "upper"),
    10: ("F G M", ""), 11: ("F2 G2 M2", "upper"), 12: ("G M F", ""), 13: ("F M G", ""), 14: ("F M G", "upper"),
    15: ("G F M", ""), 16: ("M G F", ""), 17: ("NG NF", ""), 18: ("NF NG", ""), 19: ("NF NG NM", ""),
    20: ("NF NM NG", ""), 21: ("NG NM NF", ""), 22: ("NFG", ""), 23: ("NF NG NM", "upper"),
    24: ("NF NM NG", "upper"), 25: ("G2 M2 F2", ""), 26: ("F2 M2 G2", ""), 27: ("NG NF", "upper"), 28: ("F2 G2", ""),
}
# Forms that use the person's own script (when it is not Latin); people writing to an address abroad
# (a forwarding warehouse) mostly keep to Latin.
NATIVE_FORMS = (17, 18, 19, 20, 21, 22, 23, 24, 27)

_EN_FORMS = {0: 55, 1: 9, 2: 7, 3: 13, 4: 5, 5: 5, 6: 3, 8: 3}
_LATIN_FORMS = {17: 30, 0: 28, 1: 8, 2: 5, 3: 10, 27: 4, 4: 3, 5: 4, 6: 3, 8: 5}
_CYRILLIC_FORMS = {17: 13, 18: 11, 19: 8, 21: 2, 23: 2, 27: 2, 0: 20, 6: 9, 7: 7, 1: 5, 3: 5, 8: 7, 9: 4, 10: 2,
                   11: 2, 28: 1}

# Name groups. given: "native|latin/latin|g"; family: "native|latin/latin" (male form);
# female: how female family names are made ("slavic": +а/+a after -ов, -ев, -ин; "polish": -ski ->
# -ska; "malay": bin -> binti); middle: "patronymic" (from `patronymics`), "father" (a male given
# name), "vietnamese" (from `middles` by gender) or none; middle_rate: share of people who write one;
# sep: how family and given name are joined in the own script (CJK: nothing); forms: weights of the
# name forms; borrow: (group, share) of people of the country named as in another group (Russians
# in Kazakhstan).
NAMES = {
    "ru": {
        "given": ["Андрей|Andrey/Andrei|m", "Юрий|Yuriy/Yuri/Iurii/Yury|m", "Ксения|Kseniya/Ksenia/Xenia|f",
                  "Иван|Ivan|m", "Ольга|Olga|f", "Дмитрий|Dmitry/Dmitriy/Dmitrii|m", "Елена|Elena/Yelena|f",
                  "Сергей|Sergey/Sergei|m", "Наталья|Natalya/Natalia/Nataliya|f", "Алексей|Alexey/Aleksei/Alexei/Aleksey|m",
                  "Анна|Anna|f", "Ирина|Irina|f", "Михаил|Mikhail/Mihail|m", "Татьяна|Tatiana/Tatyana/Tatjana|f",
                  "Николай|Nikolai/Nikolay|m", "Светлана|Svetlana|f", "Артём|Artem/Artyom/Artiom|m",
                  "Екатерина|Ekaterina/Yekaterina|f", "Мария|Maria/Mariya|f", "Евгений|Evgeny/Evgeniy/Yevgeny/Evgenii|m",
                  "Юлия|Yulia/Yuliya/Iuliia/Julia|f", "Александр|Aleksandr/Alexander/Alexandr|m", "Владимир|Vladimir|m",
                  "Анастасия|Anastasia/Anastasiya|f", "Максим|Maksim/Maxim|m", "Дарья|Daria/Darya|f"],
        "family": ["Иванов|Ivanov", "Смирнов|Smirnov", "Кузнецов|Kuznetsov/Kuznecov", "Попов|Popov",
                   "Васильев|Vasiliev/Vasilyev/Vasilev", "Петров|Petrov", "Соколов|Sokolov", "Михайлов|Mikhailov/Mikhaylov",
                   "Новиков|Novikov", "Фёдоров|Fedorov/Fyodorov", "Морозов|Morozov", "Волков|Volkov",
                   "Алексеев|Alekseev/Alexeev/Alekseyev", "Лебедев|Lebedev", "Семёнов|Semenov/Semyonov",
                   "Егоров|Egorov/Yegorov", "Козлов|Kozlov", "Соловьёв|Solovyov/Soloviev/Solovev", "Зайцев|Zaitsev/Zaytsev",
                   "Белов|Belov", "Орлов|Orlov", "Никитин|Nikitin", "Захаров|Zakharov/Zaharov", "Степанов|Stepanov"],
        "female": "slavic", "middle": "patronymic", "middle_rate": 0.45, "sep": [" "], "forms": _CYRILLIC_FORMS,
        "patronymics": ["Сергеевич|Сергеевна|Sergeevich/Sergeyevich|Sergeevna/Sergeyevna",
                        "Александрович|Александровна|Aleksandrovich/Alexandrovich|Aleksandrovna/Alexandrovna",
                        "Иванович|Ивановна|Ivanovich|Ivanovna", "Владимирович|Владимировна|Vladimirovich|Vladimirovna",
                        "Николаевич|Николаевна|Nikolaevich/Nikolayevich|Nikolaevna/Nikolayevna",
                        "Андреевич|Андреевна|Andreevich/Andreyevich|Andreevna/Andreyevna",
                        "Михайлович|Михайловна|Mikhailovich/Mikhaylovich|Mikhailovna/Mikhaylovna",
                        "Дмитриевич|Дмитриевна|Dmitrievich/Dmitriyevich|Dmitrievna/Dmitriyevna",
                        "Юрьевич|Юрьевна|Yurievich/Yuryevich/Iurevich|Yurievna/Yuryevna/Iurevna",
                        "Алексеевич|Алексеевна|Alekseevich/Alexeevich|Alekseevna/Alexeevna",
                        "Викторович|Викторовна|Viktorovich|Viktorovna", "Петрович|Петровна|Petrovich|Petrovna"],
    },
    "uk": {
        "given": ["Олександр|Oleksandr/Olexandr/Alexander|m", "Андрій|Andrii/Andriy/Andrey|m", "Юрій|Yurii/Yuriy/Yuri|m",
                  "Олена|Olena/Elena|f", "Оксана|Oksana|f", "Дмитро|Dmytro/Dmitro|m", "Наталія|Nataliia/Natalia/Nataliya|f",
                  "Сергій|Serhii/Serhiy/Sergey|m", "Тетяна|Tetiana/Tetyana/Tatiana|f", "Іван|Ivan|m", "Ірина|Iryna/Irina|f",
                  "Юлія|Yuliia/Yulia|f", "Віктор|Viktor/Victor|m", "Катерина|Kateryna/Katerina|f", "Богдан|Bohdan/Bogdan|m",
                  "Марія|Mariia/Maria|f"],
        "family": ["Шевченко|Shevchenko", "Коваленко|Kovalenko", "Бондаренко|Bondarenko", "Ткаченко|Tkachenko",
                   "Кравченко|Kravchenko", "Мельник|Melnyk/Melnik", "Бойко|Boiko/Boyko", "Ковальчук|Kovalchuk",
                   "Поліщук|Polishchuk/Polischuk", "Савченко|Savchenko", "Лисенко|Lysenko/Lisenko", "Марченко|Marchenko",
                   "Руденко|Rudenko", "Петренко|Petrenko", "Мороз|Moroz", "Павленко|Pavlenko"],
        "female": "slavic", "middle": "patronymic", "middle_rate": 0.25, "sep": [" "],
        "forms": {17: 14, 18: 10, 19: 4, 27: 2, 0: 24, 6: 9, 7: 7, 1: 5, 3: 6, 8: 9, 9: 5, 10: 1, 28: 2},
        "patronymics": ["Олександрович|Олександрівна|Oleksandrovych|Oleksandrivna",
                        "Іванович|Іванівна|Ivanovych|Ivanivna", "Сергійович|Сергіївна|Serhiiovych/Serhiyovych|Serhiivna",
                        "Петрович|Петрівна|Petrovych|Petrivna", "Миколайович|Миколаївна|Mykolaiovych|Mykolaivna",
                        "Володимирович|Володимирівна|Volodymyrovych|Volodymyrivna"],
    },
    "kz": {
        "given": ["Ерлан|Yerlan/Erlan|m", "Айгерим|Aigerim/Aygerim|f", "Нурлан|Nurlan|m", "Динара|Dinara|f",
                  "Асель|Assel/Asel|f", "Данияр|Daniyar/Daniiar|m", "Айдана|Aidana/Aydana|f",
                  "Бауыржан|Bauyrzhan/Baurzhan/Bauyrjan|m", "Айбек|Aibek/Aybek|m", "Жанар|Zhanar/Janar|f",
                  "Арман|Arman|m", "Гульнара|Gulnara/Gulnar|f", "Ержан|Yerzhan/Erzhan|m", "Мадина|Madina|f",
                  "Бакыт|Bakyt/Bakit|m", "Нургуль|Nurgul/Nurgül|f", "Тимур|Timur|m", "Алия|Aliya/Aliia|f"],
        "family": ["Нурланов|Nurlanov", "Ахметов|Akhmetov/Ahmetov", "Сейткали|Seitkali", "Абенов|Abenov",
                   "Омаров|Omarov", "Беков|Bekov", "Жумабаев|Zhumabaev/Zhumabayev/Jumabaev", "Садыков|Sadykov/Sadikov",
                   "Касымов|Kassymov/Kasymov", "Тулегенов|Tulegenov", "Искаков|Iskakov", "Сулейменов|Suleimenov/Suleymenov",
                   "Абдыкадыров|Abdykadyrov/Abdikadirov", "Мамбетов|Mambetov"],
        "female": "slavic", "middle": "patronymic", "middle_rate": 0.35, "sep": [" "], "forms": _CYRILLIC_FORMS,
        "patronymics": ["Ерланович|Ерлановна|Yerlanovich/Erlanovich|Yerlanovna/Erlanovna",
                        "Нурланович|Нурлановна|Nurlanovich|Nurlanovna", "Серикович|Сериковна|Serikovich|Serikovna",
                        "Болатович|Болатовна|Bolatovich|Bolatovna", "Маратович|Маратовна|Maratovich|Maratovna",
                        "Бакытович|Бакытовна|Bakytovich|Bakytovna"],
        "borrow": ("ru", 0.35),
    },
    "vi": {
        "given": ["An|An|m", "Anh|Anh|m", "Minh|Minh|m", "Linh|Linh|f", "Hương|Huong|f", "Tuấn|Tuan|m",
                  "Thảo|Thao|f", "Đức|Duc|m", "Lan|Lan|f", "Hùng|Hung|m", "Mai|Mai|f", "Dũng|Dung|m", "Hải|Hai|m",
                  "Trang|Trang|f", "Nam|Nam|m", "Hà|Ha|f", "Phương|Phuong|f", "Long|Long|m", "Quang|Quang|m",
                  "Huyền|Huyen|f", "Thủy|Thuy|f", "Khoa|Khoa|m"],
        "family": ["Nguyễn|Nguyen", "Trần|Tran", "Lê|Le", "Phạm|Pham", "Hoàng|Hoang", "Huỳnh|Huynh", "Phan|Phan",
                   "Vũ|Vu", "Võ|Vo", "Đặng|Dang", "Bùi|Bui", "Đỗ|Do", "Hồ|Ho", "Ngô|Ngo", "Dương|Duong", "Lý|Ly"],
        "middle": "vietnamese", "middle_rate": 0.95, "sep": [" "],
        "middles": {"m": ["Văn|Van", "Đức|Duc", "Minh|Minh", "Hữu|Huu", "Quốc|Quoc", "Thanh|Thanh", "Công|Cong"],
                    "f": ["Thị|Thi", "Ngọc|Ngoc", "Thu|Thu", "Thanh|Thanh", "Kim|Kim", "Bích|Bich"]},
        "forms": {20: 16, 24: 3, 13: 34, 14: 14, 15: 11, 16: 5, 0: 6, 26: 5, 3: 3, 6: 3},
    },
    "ar": {
        "given": ["محمد|Mohammed/Muhammad/Mohamed/Mohammad|m", "أحمد|Ahmed/Ahmad|m", "فاطمة|Fatima/Fatma/Fatimah|f",
                  "عائشة|Aisha/Aysha/Aishah|f", "عمر|Omar/Umar|m", "مريم|Mariam/Maryam/Meriem|f", "خالد|Khalid/Khaled|m",
                  "نورة|Noura/Nora/Nourah|f", "يوسف|Yousef/Yusuf/Youssef|m", "ليلى|Layla/Laila/Leila|f",
                  "عبدالله|Abdullah/Abdulla/Abdallah|m", "سارة|Sara/Sarah|f", "علي|Ali|m", "حسن|Hassan/Hasan|m",
                  "سلطان|Sultan|m", "إبراهيم|Ibrahim/Ebrahim|m", "هند|Hind/Hend|f", "راشد|Rashid/Rashed|m"],
        "family": ["المنصوري|Al Mansouri/Al-Mansouri/Almansouri/Al Mansoori/El Mansouri",
                   "الهاشمي|Al Hashimi/Al-Hashimi/Alhashemi/Al Hashemi/El Hachemi",
                   "النعيمي|Al Nuaimi/Al-Nuaimi/Alnuaimi/Al Naimi", "حداد|Haddad", "الفلاسي|Al Falasi/Al-Falasi/Alfalasi",
                   "ناصر|Nasser/Nasir/Naser", "عزيز|Aziz", "الشمري|Al Shammari/Al-Shammari/Alshammari/Al Shamari",
                   "العتيبي|Al Otaibi/Al-Otaibi/Alotaibi/Al Utaybi", "القحطاني|Al Qahtani/Al-Qahtani/Alqahtani/Al Kahtani",
                   "الغامدي|Al Ghamdi/Al-Ghamdi/Alghamdi", "الدوسري|Al Dossari/Al-Dosari/Aldossary/Al Dawsari",
                   "صالح|Saleh/Salih", "المري|Al Marri/Al-Marri/Almarri", "الكعبي|Al Kaabi/Al-Kaabi/Alkaabi/Al Ka'abi"],
        "middle": "father", "middle_rate": 0.35, "sep": [" "],
        "forms": {0: 28, 12: 12, 8: 12, 25: 5, 3: 10, 1: 5, 7: 3, 17: 12, 21: 6, 5: 3, 2: 2, 28: 2},
    },
    "th": {
        "given": ["สมชาย|Somchai/Somchay", "สุดา|Suda", "อนันต์|Anan/Anant", "มาลี|Malee/Mali", "นิรันดร์|Niran/Nirun",
                  "พลอย|Ploy/Ploi", "ชัย|Chai/Chay", "กันยา|Kanya", "ประเสริฐ|Prasert/Prasoet", "วิชัย|Wichai/Vichai",
                  "ศิริพร|Siriporn/Siriphon", "สมศักดิ์|Somsak/Somsuck", "นภา|Napa/Naphaa", "ธนา|Thana/Tana"],
        "family": ["แซ่ตั้ง|Saetang/Sae-tang/Sae Tang", "ศรีสุข|Srisuk/Srisook/Sisuk", "วงศ์สา|Wongsa/Vongsa",
                   "ชัยพร|Chaiyaporn/Chaiporn/Chaiyaphon", "บุญมี|Boonmee/Bunmi/Boonmi", "แก้วกล้า|Kaewkla/Kaeokla",
                   "รัตนากร|Rattanakorn/Rattanakon/Ratanakorn", "ทองดี|Thongdee/Thongdi/Tongdee", "ใจดี|Jaidee/Chaidee/Jaidi",
                   "สุขใจ|Sukjai/Sukchai/Sookjai", "ศรีวงศ์|Sriwong/Sriwongse", "พรหมมา|Promma/Phromma"],
        "sep": [" "], "forms": {0: 38, 8: 10, 3: 10, 7: 8, 17: 24, 1: 4, 5: 3, 28: 3},
    },
    "ja": {
        "given": ["陽翔|Haruto", "結衣|Yui", "蒼太|Sota/Souta", "陽菜|Hina", "悠斗|Yuto/Yuuto", "さくら|Sakura", "蓮|Ren",
                  "葵|Aoi", "隆|Takashi", "由紀|Yuki/Yuuki", "健二|Kenji", "明子|Akiko", "大輔|Daisuke", "美咲|Misaki"],
        "family": ["佐藤|Sato/Satou/Satoh", "鈴木|Suzuki", "高橋|Takahashi", "田中|Tanaka", "渡辺|Watanabe/Watanabe",
                   "伊藤|Ito/Itou/Itoh", "山本|Yamamoto", "中村|Nakamura", "小林|Kobayashi", "加藤|Kato/Katou/Katoh",
                   "吉田|Yoshida", "山田|Yamada"],
        "sep": ["", " ", "\u3000"], "forms": {0: 33, 7: 10, 6: 9, 1: 8, 3: 6, 8: 5, 22: 22, 18: 4, 9: 3},
    },
    "ko": {
        "given": ["민준|Min-jun/Minjun/Min Jun", "서연|Seo-yeon/Seoyeon/Seo Yeon", "지호|Ji-ho/Jiho", "하은|Ha-eun/Haeun",
                  "도윤|Do-yun/Doyoon/Do Yoon", "지우|Ji-woo/Jiwoo/Ji-u", "준호|Jun-ho/Joon-ho/Junho",
                  "수민|Su-min/Soo-min/Sumin", "현우|Hyun-woo/Hyeon-u/Hyunwoo", "은지|Eun-ji/Eunji", "영희|Young-hee/Yeong-hui",
                  "성민|Sung-min/Seong-min"],
        "family": ["김|Kim/Gim", "이|Lee/Yi/Rhee", "박|Park/Pak/Bak", "최|Choi/Choe", "정|Jung/Jeong/Chung",
                   "강|Kang/Gang", "조|Cho/Jo", "윤|Yoon/Yun", "장|Jang/Chang", "임|Lim/Im/Lym", "한|Han", "오|Oh/O"],
        "sep": ["", "", "", " "], "forms": {0: 30, 7: 9, 6: 8, 1: 8, 8: 10, 9: 5, 22: 26, 3: 4},
    },
    "yue": {  # Hong Kong: traditional characters, Cantonese romanisation
        "given": ["大文|Tai Man/Tai-man", "家豪|Ka Ho/Ka-ho", "嘉欣|Ka Yan/Ka-yan", "志強|Chi Keung/Chi-keung",
                  "美玲|Mei Ling/Mei-ling", "詠詩|Wing Sze/Wing-sze", "偉明|Wai Ming/Wai-ming", "淑儀|Suk Yee/Suk-yi",
                  "浩然|Ho Yin/Ho-yin", "慧敏|Wai Man/Wai-man", "子軒|Tsz Hin/Tsz-hin", "凱琳|Hoi Lam/Hoi-lam"],
        "family": ["陳|Chan", "黃|Wong", "張|Cheung", "劉|Lau", "何|Ho", "梁|Leung", "林|Lam", "李|Lee/Li", "吳|Ng",
                   "蔡|Choi/Tsoi", "周|Chow/Chau", "鄭|Cheng/Chang", "謝|Tse", "麥|Mak"],
        "sep": [""], "forms": {6: 25, 7: 12, 0: 12, 1: 8, 2: 5, 8: 6, 28: 4, 22: 28},
    },
    "zh_tw": {  # Taiwan: traditional characters, Wade-Giles and Hanyu pinyin
        "given": ["志明|Chih-Ming/Chih Ming/Zhiming", "淑芬|Shu-Fen/Shu Fen/Shufen", "俊傑|Chun-Chieh/Jun-Jie",
                  "怡君|Yi-Chun/Yi-Jun", "家豪|Chia-Hao/Jia-Hao", "雅婷|Ya-Ting/Ya Ting", "冠宇|Kuan-Yu/Guan-Yu",
                  "佳穎|Chia-Ying/Jia-Ying", "建宏|Chien-Hung/Jian-Hong", "美惠|Mei-Hui/Mei Hui"],
        "family": ["陳|Chen/Chan", "林|Lin", "黃|Huang/Hwang", "張|Chang/Zhang", "李|Lee/Li", "王|Wang", "吳|Wu",
                   "劉|Liu/Lau", "蔡|Tsai/Cai", "楊|Yang", "許|Hsu/Xu", "鄭|Cheng/Zheng"],
        "sep": [""], "forms": {0: 25, 6: 10, 7: 8, 1: 7, 8: 10, 22: 35, 2: 5},
    },
    "sgzh": {  # Chinese Singaporeans and Malaysians: Hokkien, Cantonese or pinyin spellings, family first
        "given": ["伟明|Wei Ming/Weiming", "美玲|Mei Ling/Meiling", "嘉慧|Jia Hui/Chia Hui", "国伟|Kok Wai/Guo Wei",
                  "志强|Chee Keong/Zhi Qiang", "丽华|Lay Hua/Li Hua", "俊杰|Jun Jie/Choon Kiat", "慧玲|Hui Ling/Huey Ling",
                  "家豪|Jia Hao/Kah Hoe", "秀英|Siew Eng/Xiu Ying"],
        "family": ["陈|Tan/Chen", "林|Lim/Lin", "黄|Ng/Wong/Ooi", "李|Lee/Li", "张|Teo/Chong/Cheong", "吴|Goh/Ng",
                   "王|Ong/Wang", "刘|Low/Lau", "杨|Yeo/Yang", "郑|Tay/Cheng"],
        "sep": [""], "forms": {6: 35, 7: 15, 0: 10, 1: 10, 28: 10, 22: 12, 2: 3, 8: 5},
        "borrow": ("ms", 0.2),
    },
    "ms": {  # Malay: given name, bin / binti and the father's name
        "given": ["Ahmad|Ahmad|m", "Nur|Nur|f", "Muhammad|Muhammad/Mohd|m", "Siti|Siti|f", "Hafiz|Hafiz/Hafidz|m",
                  "Aisyah|Aisyah/Aishah|f", "Faizal|Faizal/Faisal|m", "Nurul|Nurul|f", "Azman|Azman|m", "Farah|Farah|f"],
        "family": ["bin Abdullah|bin Abdullah/Bin Abdullah/Abdullah", "bin Ismail|bin Ismail/Bin Ismail/Ismail",
                   "bin Hassan|bin Hassan/Bin Hasan/Hassan", "bin Ibrahim|bin Ibrahim/B. Ibrahim/Ibrahim",
                   "bin Rahman|bin Rahman/Bin Abd Rahman/Rahman", "bin Yusof|bin Yusof/Bin Yusoff/Yusof",
                   "bin Osman|bin Osman/Bin Othman/Osman"],
        "female": "malay", "sep": [" "], "forms": {0: 55, 3: 20, 4: 4, 8: 16, 5: 5},
        "borrow": ("sgzh", 0.3),
    },
    "hy": {
        "given": ["Արմեն|Armen", "Անահիտ|Anahit", "Դավիթ|Davit/David", "Լիլիթ|Lilit", "Արամ|Aram", "Մարիամ|Mariam",
                  "Նարեկ|Narek", "Անի|Ani", "Տիգրան|Tigran", "Գայանե|Gayane/Gayaneh"],
        "family": ["Սարգսյան|Sargsyan/Sargsian/Sarkisyan", "Հակոբյան|Hakobyan/Akopyan/Hakobian",
                   "Գրիգորյան|Grigoryan/Grigorian", "Պետրոսյան|Petrosyan/Petrosian",
                   "Հարությունյան|Harutyunyan/Arutyunyan/Harutyunian", "Խաչատրյան|Khachatryan/Khachatrian"],
        "sep": [" "], "forms": {0: 42, 3: 10, 1: 8, 6: 5, 8: 10, 17: 20, 18: 5},
    },
    "ka": {
        "given": ["გიორგი|Giorgi/George", "ნინო|Nino", "ლევან|Levan", "თამარ|Tamar/Tamari", "დავით|Davit/Dato",
                  "ანა|Ana/Anna", "ნიკა|Nika", "მარიამ|Mariam"],
        "family": ["ბერიძე|Beridze", "კაპანაძე|Kapanadze", "გელაშვილი|Gelashvili", "ლომიძე|Lomidze",
                   "აბაშიძე|Abashidze", "მაისურაძე|Maisuradze", "ჯავახიშვილი|Javakhishvili/Djavakhishvili"],
        "sep": [" "], "forms": {0: 42, 3: 10, 1: 8, 6: 5, 8: 10, 17: 20, 18: 5},
    },
}
# Name groups in Latin script (lists in words.NAME_GROUPS): their forms' weights, a few usual
# second spellings (nicknames) and the female given names where the family name depends on them.
LATIN_GROUP_FORMS = {"en": _EN_FORMS, "in": _EN_FORMS}
LATIN_GROUP_DEFAULT_FORMS = _LATIN_FORMS
LATIN_SECOND_SPELLINGS = {
    "Michael": ["Mike"], "William": ["Bill", "Will"], "Robert": ["Rob", "Bob"], "Elizabeth": ["Liz", "Beth"],
    "Christopher": ["Chris"], "Jennifer": ["Jenny", "Jen"], "Matthew": ["Matt"], "Daniel": ["Dan"],
    "Andrew": ["Andy"], "Thomas": ["Tom"], "Patricia": ["Pat", "Trish"], "Katharina": ["Katrin"],
    "Maximilian": ["Max"], "Alejandro": ["Alex"], "Alessandro": ["Alex"], "Krzysztof": ["Krzys"],
}
POLISH_FEMALE = {"Anna", "Katarzyna", "Magdalena", "Agnieszka", "Ewa"}
# Latin-script names with letters that ASCII folding alone gets wrong or that have a second usual
# spelling: German umlauts also as ae/oe/ue, ß as ss.
TRANSLIT_DE = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
# Letters that Unicode decomposition does not fold to ASCII.
FOLD_EXTRA = {"ł": "l", "Ł": "L", "ß": "ss", "ı": "i", "İ": "I", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "æ": "ae",
              "œ": "oe", "º": "o", "ª": "a"}

# --- Countries: own-script names, cities, streets, districts ----------------------------------
COUNTRY_NATIVE = {
    "RU": "Россия", "BY": "Беларусь", "KZ": "Казахстан", "KG": "Кыргызстан", "UA": "Україна", "VN": "Việt Nam",
    "TH": "ประเทศไทย", "JP": "日本", "KR": "대한민국", "AE": "الإمارات العربية المتحدة", "SA": "المملكة العربية السعودية",
    "DE": "Deutschland", "PL": "Polska", "IT": "Italia", "ES": "España", "BR": "Brasil", "TR": "Türkiye",
    "MX": "México", "HK": "香港", "TW": "臺灣", "NL": "Nederland", "SE": "Sverige", "FR": "France",
}
# Cities: latin -> (native, second latin spelling). Latin-script cities not listed are native as written.
CITY_FORMS = {
    "Moscow": ("Москва", "Moskva"), "Saint Petersburg": ("Санкт-Петербург", "St. Petersburg"),
    "Novosibirsk": ("Новосибирск", "Novosibirsk"), "Yekaterinburg": ("Екатеринбург", "Ekaterinburg"),
    "Vladivostok": ("Владивосток", "Vladivostok"), "Almaty": ("Алматы", "Almaty"), "Astana": ("Астана", "Nur-Sultan"),
    "Shymkent": ("Шымкент", "Chimkent"), "Bishkek": ("Бишкек", "Bishkek"), "Osh": ("Ош", "Osh"),
    "Minsk": ("Минск", "Minsk"), "Gomel": ("Гомель", "Homel"), "Brest": ("Брест", "Brest"),
    "Kyiv": ("Київ", "Kiev"), "Kharkiv": ("Харків", "Kharkov"), "Odesa": ("Одеса", "Odessa"), "Lviv": ("Львів", "Lvov"),
    "Ho Chi Minh City": ("TP. Hồ Chí Minh", "HCMC"), "Hanoi": ("Hà Nội", "Ha Noi"), "Hai Phong": ("Hải Phòng", "Haiphong"),
    "Bangkok": ("กรุงเทพฯ", "Krung Thep"), "Chiang Mai": ("เชียงใหม่", "Chiangmai"),
    "Tokyo": ("東京都", "Tokyo-to"), "Osaka": ("大阪府大阪市", "Osaka-shi"), "Yokohama": ("神奈川県横浜市", "Yokohama-shi"),
    "Nagoya": ("愛知県名古屋市", "Nagoya-shi"), "Seoul": ("서울특별시", "Seoul-si"), "Busan": ("부산광역시", "Pusan"),
    "Incheon": ("인천광역시", "Inchon"), "Dubai": ("دبي", "Dubayy"), "Sharjah": ("الشارقة", "Al Sharjah"),
    "Abu Dhabi": ("أبو ظبي", "Abudhabi"), "Riyadh": ("الرياض", "Ar Riyadh"), "Jeddah": ("جدة", "Jiddah"),
    "Dammam": ("الدمام", "Ad Dammam"), "Hong Kong": ("香港", "HK"), "Kowloon": ("九龍", "Kowloon"),
    "Taipei": ("臺北市", "Taibei"), "Taichung": ("臺中市", "Taizhong"), "Kaohsiung": ("高雄市", "Gaoxiong"),
    "München": ("München", "Munich"), "Köln": ("Köln", "Cologne"), "Warszawa": ("Warszawa", "Warsaw"),
    "Kraków": ("Kraków", "Cracow"), "Łódź": ("Łódź", "Lodz"), "Milano": ("Milano", "Milan"), "Roma": ("Roma", "Rome"),
    "Napoli": ("Napoli", "Naples"), "Istanbul": ("İstanbul", "Istanbul"), "Izmir": ("İzmir", "Izmir"),
    "Göteborg": ("Göteborg", "Gothenburg"), "Ciudad de México": ("Ciudad de México", "Mexico City"),
    "São Paulo": ("São Paulo", "Sao Paulo"),
}
# Street types of the Russian and Ukrainian conventions: key -> (own script, Latin, English).
STREET_TYPES_RU = {"ul": ("ул.", "ul.", "str."), "pr": ("пр-т", "pr.", "ave."), "per": ("пер.", "per.", "lane")}
STREET_TYPES_UA = {"ul": ("вул.", "vul.", "str."), "pr": ("просп.", "prosp.", "ave."), "per": ("пров.", "prov.", "lane")}
STREET_TYPES_TR = {"cad": ("Caddesi", "Cad.", "Avenue"), "sok": ("Sokak", "Sok.", "Street")}
# Streets per country. Cyrillic conventions: "latin|native|type"; others "latin|native|second latin"
# or, in Latin-script countries, the street as written (its ASCII form derived).
STREETS = {
    "RU": ["Lenina|Ленина|ul", "Tverskaya|Тверская|ul", "Pushkina|Пушкина|ul", "Gagarina|Гагарина|ul",
           "Sovetskaya|Советская|ul", "Mira|Мира|pr", "Sadovaya|Садовая|ul", "Lesnaya|Лесная|ul",
           "Molodezhnaya|Молодёжная|ul", "Profsoyuznaya|Профсоюзная|ul", "Leninsky|Ленинский|pr", "Kirova|Кирова|ul",
           "Shkolny|Школьный|per", "Novaya|Новая|ul"],
    "BY": ["Nezavisimosti|Независимости|pr", "Lenina|Ленина|ul", "Surganova|Сурганова|ul",
           "Pritytskogo|Притыцкого|ul", "Pobediteley|Победителей|pr", "Nemiga|Немига|ul", "Kirova|Кирова|ul"],
    "KZ": ["Abaya|Абая|pr", "Dostyk|Достык|pr", "Satpayeva|Сатпаева|ul", "Tole Bi|Толе би|ul",
           "Zhibek Zholy|Жибек жолы|pr", "Furmanova|Фурманова|ul", "Rozybakieva|Розыбакиева|ul",
           "Kabanbay Batyra|Кабанбай батыра|ul", "Rayymbeka|Райымбека|pr"],
    "KG": ["Chuy|Чуй|pr", "Manasa|Манаса|pr", "Kievskaya|Киевская|ul", "Sovetskaya|Советская|ul",
           "Toktogula|Токтогула|ul", "Ibraimova|Ибраимова|ul"],
    "UA": ["Khreshchatyk|Хрещатик|ul", "Shevchenka|Шевченка|ul", "Peremohy|Перемоги|pr",
           "Lesi Ukrainky|Лесі Українки|ul", "Soborna|Соборна|ul", "Nezalezhnosti|Незалежності|pr",
           "Sadova|Садова|ul", "Shkilnyi|Шкільний|per"],
    "VN": ["Lê Lợi", "Nguyễn Trãi", "Trần Hưng Đạo", "Hai Bà Trưng", "Lê Duẩn", "Điện Biên Phủ", "Nguyễn Huệ",
           "Lý Thường Kiệt", "Cách Mạng Tháng Tám", "Phan Đình Phùng", "Nguyễn Văn Linh", "Võ Văn Tần"],
    "TH": ["Sukhumvit|สุขุมวิท|Sukhumwit", "Silom|สีลม|Silom", "Rama IV|พระราม 4|Rama 4",
           "Phahonyothin|พหลโยธิน|Phaholyothin", "Nimmanhaemin|นิมมานเหมินท์|Nimman", "Phetchaburi|เพชรบุรี|Petchaburi",
           "Ratchadaphisek|รัชดาภิเษก|Ratchadapisek", "Lat Phrao|ลาดพร้าว|Ladprao"],
    "AE": ["Sheikh Zayed Road|شارع الشيخ زايد|Sheikh Zayed Rd", "Al Wasl Road|شارع الوصل|Al Wasl Rd",
           "Al Khaleej Road|شارع الخليج|Al Khaleej Rd", "Hamdan Street|شارع حمدان|Hamdan St",
           "Al Ittihad Road|شارع الاتحاد|Al Ittihad Rd", "King Faisal Street|شارع الملك فيصل|King Faisal St",
           "Al Rigga Road|شارع الرقة|Al Rigga Rd"],
    "SA": ["King Fahd Road|طريق الملك فهد|King Fahd Rd", "Olaya Street|شارع العليا|Olaya St",
           "Prince Sultan Street|شارع الأمير سلطان|Prince Sultan St", "Tahlia Street|شارع التحلية|Tahlia St",
           "King Abdulaziz Road|طريق الملك عبدالعزيز|King Abdulaziz Rd", "Al Madinah Road|طريق المدينة|Madinah Rd"],
    "HK": ["Nathan Road|彌敦道|Nathan Rd", "Queen's Road Central|皇后大道中|Queen's Rd C.", "Des Voeux Road|德輔道|Des Voeux Rd",
           "Hennessy Road|軒尼詩道|Hennessy Rd", "Canton Road|廣東道|Canton Rd", "Mong Kok Road|旺角道|Mong Kok Rd"],
    "TW": ["Zhongxiao E. Rd.|忠孝東路|Chung Hsiao E. Rd.", "Xinyi Rd.|信義路|Hsin Yi Rd.", "Ren'ai Rd.|仁愛路|Jen Ai Rd.",
           "Dunhua S. Rd.|敦化南路|Tun Hwa S. Rd.", "Minsheng E. Rd.|民生東路|Min Sheng E. Rd.",
           "Zhongshan N. Rd.|中山北路|Chung Shan N. Rd."],
    "TR": ["Atatürk|cad", "İstiklal|cad", "Cumhuriyet|cad", "Bağdat|cad", "İnönü|cad", "Gül|sok", "Lale|sok",
           "Çiçek|sok", "Menekşe|sok"],
    "FR": ["rue de Rivoli", "avenue Victor Hugo", "boulevard Saint-Germain", "rue de la République", "place Bellecour",
           "rue du Faubourg Saint-Honoré", "avenue Jean Jaurès", "rue Sainte-Catherine", "rue Pasteur"],
    "IT": ["Via Roma", "Corso Garibaldi", "Via Giuseppe Mazzini", "Piazza Dante", "Via del Corso", "Viale Monza",
           "Via Nazionale", "Corso Vittorio Emanuele II"],
    "ES": ["Calle Mayor", "Gran Vía", "Calle de Alcalá", "Calle de Serrano", "Avenida Diagonal",
           "Paseo de la Castellana", "Calle Colón"],
    "MX": ["Paseo de la Reforma", "Avenida Insurgentes Sur", "Avenida Juárez", "Calle Madero", "Avenida Chapultepec"],
    "BR": ["Rua Augusta", "Avenida Paulista", "Rua das Flores", "Avenida Atlântica", "Rua Sete de Setembro",
           "Rua da Consolação"],
    "PL": ["Marszałkowska", "Długa", "Polna", "Leśna", "Słoneczna", "Krótka", "Szkolna", "Ogrodowa", "Lipowa",
           "Piłsudskiego"],
    "MY": ["Jalan Ampang", "Jalan Bukit Bintang", "Jalan Tun Razak", "Jalan Sultan Ismail", "Jalan Ipoh",
           "Jalan Masjid India"],
    "SG": ["Orchard Road", "Bukit Timah Road", "Tampines Street 11", "Jurong East Street 21", "Ang Mo Kio Avenue 3",
           "Toa Payoh Lorong 1"],
}
# German, Dutch and Swedish streets: stems and types (own spelling, abbreviation, ASCII spelling).
STREET_STEMS_DE = {
    "DE": ["Haupt", "Bahnhof", "Garten", "Schul", "Kirch", "Berg", "Linden", "Wald", "Ring", "Markt", "Goethe",
           "Schiller"],
    "NL": ["Kerk", "Dorps", "Molen", "School", "Stations", "Heren", "Prinsen", "Nieuwe"],
    "SE": ["Stor", "Drottning", "Kungs", "Skol", "Kyrko", "Järnvägs"],
}
STREET_TYPES_STEM = {
    "DE": [("straße", "str.", "strasse"), ("weg", "weg", "weg"), ("allee", "allee", "allee"), ("platz", "pl.", "platz")],
    "NL": [("straat", "str.", "straat"), ("weg", "weg", "weg"), ("laan", "ln.", "laan"), ("plein", "pl.", "plein")],
    "SE": [("gatan", "g.", "gatan"), ("vägen", "v.", "vagen")],
}
# Districts of the cities whose addresses name them: city -> [(district, [quarters])], each place
# "latin|native". Vietnam: wards of Ho Chi Minh City are numbered ("#" here).
DISTRICTS = {
    "Ho Chi Minh City": [("1|1", ["#"]), ("3|3", ["#"]), ("5|5", ["#"]), ("7|7", ["#"]), ("10|10", ["#"]),
                         ("Binh Thanh|Bình Thạnh", ["#"]), ("Phu Nhuan|Phú Nhuận", ["#"]), ("Tan Binh|Tân Bình", ["#"])],
    "Hanoi": [("Hoan Kiem|Hoàn Kiếm", ["Trang Tien|Tràng Tiền", "Hang Bac|Hàng Bạc", "Hang Trong|Hàng Trống"]),
              ("Ba Dinh|Ba Đình", ["Kim Ma|Kim Mã", "Ngoc Ha|Ngọc Hà", "Lieu Giai|Liễu Giai"]),
              ("Dong Da|Đống Đa", ["Lang Ha|Láng Hạ", "Van Mieu|Văn Miếu", "O Cho Dua|Ô Chợ Dừa"]),
              ("Cau Giay|Cầu Giấy", ["Dich Vong|Dịch Vọng", "Nghia Do|Nghĩa Đô", "Yen Hoa|Yên Hòa"])],
    "Hai Phong": [("Le Chan|Lê Chân", ["An Bien|An Biên", "Du Hang|Dư Hàng"]),
                  ("Ngo Quyen|Ngô Quyền", ["May To|Máy Tơ", "Lach Tray|Lạch Tray"])],
    "Bangkok": [("Khlong Toei|คลองเตย", ["Khlong Tan|คลองตัน", "Khlong Toei|คลองเตย", "Phra Khanong|พระโขนง"]),
                ("Watthana|วัฒนา", ["Khlong Toei Nuea|คลองเตยเหนือ", "Khlong Tan Nuea|คลองตันเหนือ"]),
                ("Bang Rak|บางรัก", ["Silom|สีลม", "Suriyawong|สุริยวงศ์"]),
                ("Pathum Wan|ปทุมวัน", ["Lumphini|ลุมพินี", "Rong Mueang|รองเมือง"]),
                ("Chatuchak|จตุจักร", ["Lat Yao|ลาดยาว", "Chom Phon|จอมพล"])],
    "Chiang Mai": [("Mueang Chiang Mai|เมืองเชียงใหม่", ["Suthep|สุเทพ", "Si Phum|ศรีภูมิ", "Chang Khlan|ช้างคลาน",
                                                       "Hai Ya|หายยา"])],
    "Tokyo": [("Shibuya|渋谷", ["Shibuya|渋谷", "Dogenzaka|道玄坂", "Ebisu|恵比寿"]),
              ("Shinjuku|新宿", ["Nishi-Shinjuku|西新宿", "Kabukicho|歌舞伎町"]),
              ("Minato|港", ["Roppongi|六本木", "Shibaura|芝浦"]), ("Setagaya|世田谷", ["Sangenjaya|三軒茶屋", "Yoga|用賀"])],
    "Osaka": [("Kita|北", ["Umeda|梅田", "Tenma|天満"]), ("Chuo|中央", ["Namba|難波", "Shinsaibashisuji|心斎橋筋"])],
    "Yokohama": [("Nishi|西", ["Minatomirai|みなとみらい", "Takashima|高島"]), ("Naka|中", ["Yamashitacho|山下町"])],
    "Nagoya": [("Naka|中", ["Sakae|栄", "Nishiki|錦"]), ("Nakamura|中村", ["Meieki|名駅"])],
    # Korea: quarters are the roads of the district.
    "Seoul": [("Gangnam|강남", ["Teheran-ro|테헤란로", "Gangnam-daero|강남대로", "Dosan-daero|도산대로"]),
              ("Mapo|마포", ["World Cup-ro|월드컵로", "Yanghwa-ro|양화로"]),
              ("Songpa|송파", ["Olympic-ro|올림픽로", "Songpa-daero|송파대로"])],
    "Busan": [("Haeundae|해운대", ["Haeundae-ro|해운대로", "Centum jungang-ro|센텀중앙로"]),
              ("Busanjin|부산진", ["Jungang-daero|중앙대로", "Seomyeon-ro|서면로"])],
    "Incheon": [("Yeonsu|연수", ["Convensia-daero|컨벤시아대로", "Incheon tower-daero|인천타워대로"]),
                ("Namdong|남동", ["Inha-ro|인하로", "Namdong-daero|남동대로"])],
    "Dubai": [("Al Barsha|البرشاء", []), ("Deira|ديرة", []), ("Jumeirah|جميرا", []), ("Al Qusais|القصيص", []),
              ("Dubai Marina|دبي مارينا", []), ("Bur Dubai|بر دبي", [])],
    "Sharjah": [("Al Nahda|النهدة", []), ("Al Majaz|المجاز", []), ("Al Taawun|التعاون", [])],
    "Abu Dhabi": [("Al Khalidiyah|الخالدية", []), ("Al Reem Island|جزيرة الريم", []), ("Mussafah|مصفح", [])],
    "Riyadh": [("Al Olaya|العليا", []), ("Al Malaz|الملز", []), ("Al Sulimaniyah|السليمانية", []), ("An Nakheel|النخيل", [])],
    "Jeddah": [("Al Rawdah|الروضة", []), ("Al Hamra|الحمراء", []), ("Al Safa|الصفا", [])],
    "Dammam": [("Al Faisaliyah|الفيصلية", []), ("Al Shati|الشاطئ", [])],
    "Istanbul": [("Kadıköy", []), ("Beşiktaş", []), ("Şişli", []), ("Üsküdar", [])],
    "Ankara": [("Çankaya", []), ("Keçiören", [])],
    "Izmir": [("Konak", []), ("Karşıyaka", [])],
}
# How a premises of a firm is written (its warehouse or office number), per address convention:
# kind -> (Latin forms, own-script forms); {n} is the number. A firm writes its premises in one Latin
# form most of the time (as it tells its customers to), another now and then.
PREMISES = {
    "ru": {"warehouse": (["sklad {n}", "Warehouse {n}", "sklad No. {n}"], ["склад {n}", "склад №{n}"]),
           "office": (["of. {n}", "office {n}"], ["оф. {n}", "офис {n}"])},
    "ua": {"warehouse": (["sklad {n}", "Warehouse {n}"], ["склад {n}", "склад №{n}"]),
           "office": (["of. {n}", "office {n}"], ["оф. {n}", "офіс {n}"])},
    "de": {"warehouse": (["Halle {n}", "Warehouse {n}", "Lager {n}"], ["Halle {n}", "Lager {n}"]),
           "office": (["Büro {n}", "Office {n}"], ["Büro {n}"])},
    "ae": {"warehouse": (["Warehouse {n}", "WH {n}", "Warehouse No. {n}"], ["مستودع {n}"]),
           "office": (["Office {n}", "Office No. {n}"], ["مكتب {n}"])},
    "pl": {"warehouse": (["magazyn {n}", "Warehouse {n}", "hala {n}"], ["magazyn {n}", "hala {n}"]),
           "office": (["lok. {n}", "office {n}"], ["lok. {n}"])},
    "jp": {"warehouse": (["Warehouse {n}", "Soko {n}"], ["{n}号倉庫"]), "office": (["Office {n}", "{n}F"], ["{n}階"])},
    "default": {"warehouse": (["Warehouse {n}", "Bldg {n}", "WH {n}", "Building {n}"], ["Warehouse {n}"]),
                "office": (["Office {n}", "Floor {n}"], ["Office {n}"])},
}

# --- Address forms ----------------------------------------------------------------------------
# How a foreign address is written, per convention (ids 10 and up; Chinese addresses are 0-5).
# {x} is a part of the party's address; [ ... ] is left out when a part in it is missing (a flat
# that is not written, a postcode left off, the country name not added). Parts: no (house number),
# st_l / st_n / st_l2 / st_ab (street in Latin, own script, second Latin spelling, abbreviated),
# tl / tn / te (street type in Latin, own script, English: ul. / ул. / str.), type_l / type_s (Street
# / St), d1_* and d2_* (quarter and district: _n own script, _l Latin, _en English, _ab abbreviated),
# city_l / city_n / city_f (Latin, own script, own script without accents), region, post, country_l /
# country_n (only now and then), country_n! (always), soi (Thai lane), pobox, prem / prem_n (a firm's
# warehouse or office: sklad 3 / склад 3), unit (Apt 4, #4, Suite 4; or a forwarding customer's code)
# and flat:WORD|SUFFIX (the flat with the form's own word: kv. 12, 101号室; where the row is a
# forwarding customer's, the customer code in the warehouse's way instead).
ADDRESS_FORMS = {
    # United States, Canada, Australia
    10: ("{no} {st_l} {type_s}[ {unit}][, {prem}], {city_l}[, {region}][ {post}][, {country_l}]", ""),
    11: ("{no} {st_l} {type_l}[, {unit}][, {prem}], {city_l}[, {region}][ {post}][, {country_l}]", ""),
    12: ("[{unit}, ]{no} {st_l} {type_s}[, {prem}], {city_l}[ {region}][ {post}][ {country_l}]", ""),
    13: ("{no} {st_l} {type_s}[ {unit}][, {prem}], {city_l}[, {region}][ {post}][, {country_l}]", "upper"),
    # United Kingdom
    14: ("[{flat:Flat }, ][{prem}, ]{no} {st_l} {type_l}, {city_l}[ {post}][, {country_l}]", ""),
    15: ("{no} {st_l} {type_s}[, {flat:Flat }][, {prem}], {city_l}[, {post}]", ""),
    16: ("[{unit}, ]{no} {st_l} {type_l}, {city_l}[, {post}][, {country_l}]", ""),
    17: ("[{flat:Flat }, ][{prem}, ]{no} {st_l} {type_l}, {city_l}[ {post}][, {country_l}]", "upper"),
    # Germany, the Netherlands, Sweden: street before number, postcode before city
    18: ("{st_n} {no}[, {flat:Whg. }][, {prem_n}], [{post} ]{city_n}[, {country_n}]", ""),
    19: ("{st_ab} {no}[ {unit}][, {prem}], [{post} ]{city_n}[, {country_l}]", ""),
    20: ("{st_l} {no}[, {unit}][, {prem}], [{post} ]{city_f}[, {country_l}]", ""),
    21: ("[{post} ]{city_n}, {st_n} {no}[{flat:/}][, {prem_n}]", ""),
    # Poland
    22: ("ul. {st_n} {no}[{flat:/}][, {prem_n}], [{post} ]{city_n}[, {country_n}]", ""),
    23: ("ul. {st_l} {no}[ {flat:m. }][, {prem}], [{post} ]{city_f}[, {country_l}]", ""),
    24: ("{st_l} {no}[, {unit}][, {prem}], {city_l}[ {post}][, {country_l}]", ""),
    # France
    25: ("{no} {st_n}[, {flat:Appt }], [{post} ]{city_n}[, {country_n}]", ""),
    26: ("{no}, {st_l}[, {unit}], {city_l}[ {post}][, {country_l}]", ""),
    27: ("{no} {st_l}[ {flat:Appt }], [{post} ]{city_f}[ {country_l}]", "upper"),
    28: ("[{flat:Appartement }, ]{no} {st_n}, [{post} ]{city_n}", ""),
    # Italy
    29: ("{st_n} {no}[, {flat:int. }], [{post} ]{city_n}[ {region}][, {country_n}]", ""),
    30: ("{st_l}, {no}[, {unit}], {city_l}[ {post}][, {country_l}]", ""),
    31: ("{st_n}, {no} - [{post} ]{city_n}[ ({region})]", ""),
    # Spain, Mexico
    32: ("{st_n}, {no}[, {flat:piso }], [{post} ]{city_n}[, {country_n}]", ""),
    33: ("{st_l} {no}[ {unit}], {city_l}[ {post}][, {country_l}]", ""),
    34: ("{st_n} {no}[ {flat:Int. }], [C.P. {post}, ]{city_n}[, {region}]", ""),
    35: ("{st_n} {no}[, {flat:Depto. }], {city_n}[, {region}][ {post}][, {country_n}]", ""),
    # Brazil
    36: ("{st_n}, {no}[, {flat:apto }] - {city_n}[ - {region}][, {post}]", ""),
    37: ("{st_n} {no}[, {flat:Apt }], {city_l}[, {region}][ {post}][, {country_l}]", ""),
    38: ("{st_l}, {no}[ {flat:ap. }], [CEP {post}, ]{city_f}", ""),
    # Russia, Belarus, Kazakhstan, Kyrgyzstan: ul. Lenina, d. 5, kv. 12 / ул. Ленина, д. 5, кв. 12
    39: ("{tl} {st_l}, d. {no}[, {flat:kv. }][, {prem}], {city_l}[, {post}][, {country_l}]", ""),
    40: ("{tn} {st_n}, д. {no}[, {flat:кв. }][, {prem_n}], г. {city_n}[, {post}][, {country_n}]", ""),
    41: ("[{post}, ]{country_n!}, г. {city_n}, {tn} {st_n}, д. {no}[, {flat:кв. }][, {prem_n}]", ""),
    42: ("[{post}, ]г. {city_n}, {tn} {st_n} {no}[{flat:-}][, {prem_n}]", ""),
    43: ("{st_l} {te} {no}[, {flat:apt. }][, {prem}], {city_l}[ {post}][, {country_l}]", ""),
    44: ("{city_l}, {st_l} {te} {no}[{flat:-}][, {prem}][, {post}]", ""),
    45: ("[{post} ]{city_l}, {tl} {st_l} {no}[{flat:-}][, {prem}]", ""),
    46: ("{tn} {st_n}, {no}[, {flat:кв. }][, {prem_n}], {city_n}", ""),
    47: ("{tl} {st_l}, d. {no}[, {flat:kv. }][, {prem}], {city_l}[, {post}][, {country_l}]", "upper"),
    # Ukraine
    48: ("{tn} {st_n}, буд. {no}[, {flat:кв. }][, {prem_n}], м. {city_n}[, {post}][, {country_n}]", ""),
    49: ("{tl} {st_l}, {no}[, {flat:kv. }][, {prem}], {city_l}[, {post}][, {country_l}]", ""),
    50: ("{st_l} {te} {no}[, {flat:apt. }][, {prem}], {city_l}[ {post}][, {country_l}]", ""),
    51: ("[{post}, ]{city_n}, {tn} {st_n}, {no}[{flat:/}]", ""),
    # Vietnam: Số 12 Đường Lê Lợi, Phường 3, Quận 1, TP. Hồ Chí Minh, with or without diacritics
    52: ("[{flat:Phòng }, ]Số {no} Đường {st_n}, {d1_n}, {d2_n}, {city_n}[, {country_n}]", ""),
    53: ("[{flat:Phong }, ]So {no} Duong {st_l}, {d1_l}, {d2_l}, {city_f}", ""),
    54: ("{no} {st_l} Street[, {flat:Apt }], {d1_en}, {d2_en}, {city_l}[ {post}][, {country_l}]", ""),
    55: ("{no} {st_l}, {d1_ab}, {d2_ab}, {city_f}", ""),
    56: ("{no} {st_n}, {d1_n}, {d2_n}, {city_n}", ""),
    57: ("{no} {st_l}, {d1_l}, {d2_l}, {city_f}[, {country_l}]", ""),
    58: ("[{flat:Phong }, ]So {no} Duong {st_l}, {d1_l}, {d2_l}, {city_f}", "upper"),
    # Thailand
    59: ("{no}[ {flat:ห้อง }][ ซอย{st_n} {soi}] ถนน{st_n} {d1_n} {d2_n} {city_n}[ {post}]", ""),
    60: ("{no}[ {flat:Room }][, Soi {soi}], {st_l} Rd, {d1_l}, {d2_l}, {city_l}[ {post}][, {country_l}]", ""),
    61: ("{no} {st_l2} Road[, {flat:Room }], {d1_en}, {d2_en}, {city_l}[ {post}][ {country_l}]", ""),
    62: ("[{flat:Room }, ]{no}[ Soi {soi}] {st_l}, {d2_l}, {city_l}[ {post}]", ""),
    63: ("{no} ถ.{st_n} {d1_ab} {d2_ab} {city_n}[ {post}]", ""),
    # Japan
    64: ("[〒{post} ]{city_n}{d2_n}{d1_n}{no}[ {flat:|号室}][ {prem_n}]", ""),
    65: ("{no} {d1_l}[, {flat:#}][, {prem}], {d2_l}, {city_l}[ {post}][, {country_l}]", ""),
    66: ("[{flat:Room }, ][{prem}, ]{d1_l} {no}, {d2_l}, {city_l}[, {post}][, {country_l}]", ""),
    67: ("{no} {d1_l}[, {flat:#}][, {prem}], {d2_l}, {city_l}[ {post}][, {country_l}]", "upper"),
    # South Korea: road-name addresses
    68: ("{city_n} {d2_n} {st_n} {no}[, {flat:|호}]", ""),
    69: ("{no}, {st_l}[, {unit}], {d2_l}, {city_l}[ {post}][, {country_l}]", ""),
    70: ("[{flat:Apt }, ]{no} {st_l}, {d2_l}, {city_l}[, {post}][, {country_l}]", ""),
    71: ("[({post}) ]{city_n} {d2_n} {st_n} {no}[ {flat:|호}]", ""),
    # United Arab Emirates (75: the area and a P.O. Box, or the area alone, delivered by calling the phone)
    72: ("[{flat:Flat }, ][{prem}, ]Building {no}, {st_l}, {d1_l}, {city_l}[, {country_l}]", ""),
    73: ("[{flat:Apt }, ]{no} {st_l2}, {d1_l}[, {prem}], {city_l}[, UAE]", ""),
    74: ("{city_n}، {d1_n}، {st_n}، مبنى {no}[، {flat:شقة }][، {prem_n}]", ""),
    75: ("[{flat:Apt }, ][{prem}, ]{d1_l}, {city_l}[, P.O. Box {pobox}][, {country_l}]", ""),
    76: ("{d1_l}, {st_l}, {no}[, {flat:Office }][, {prem}], {city_l}[ - {country_l}]", ""),
    # Saudi Arabia (national address)
    77: ("{no} {st_l}, {d1_l}, {city_l}[ {post}][, {flat:Unit }][, {country_l}]", ""),
    78: ("Building No. {no}, {st_l}, {d1_l} District, {city_l}[ {post}][, {country_l}]", ""),
    79: ("{city_n}، حي {d1_n}، {st_n}، {no}[، {flat:شقة }]", ""),
    80: ("[{flat:Apt }, ]{st_l2}, {d1_l}, {city_l}[, P.O. Box {pobox}]", ""),
    # Hong Kong
    81: ("[{flat:Flat }, ]{no} {st_l}, {city_l}[, {country_l}]", ""),
    82: ("{city_n}{st_n}{no}號[{flat:|室}]", ""),
    83: ("[{flat:Rm }, ]{no} {st_l2}, {city_l}", "upper"),
    # Taiwan
    84: ("[{post}]{city_n}{st_n}{no}號[{flat:|樓}]", ""),
    85: ("[{flat:|F., }]No. {no}, {st_l}, {city_l} City[ {post}][, {country_l}]", ""),
    86: ("No.{no}, {st_l2}, {city_l}[, Taiwan (R.O.C.)]", ""),
    # Turkey
    87: ("{st_n} {tl} No:{no}[ {flat:D:}], [{post} ]{d2_n}/{city_n}[, {country_n}]", ""),
    88: ("{st_l} {tl} No: {no}[ {flat:Daire }], {d2_l}, {city_f}[ {post}][, {country_l}]", ""),
    89: ("{st_l} {te} No {no}[, {unit}], {city_l}[, {country_l}]", ""),
    # Malaysia
    90: ("No. {no}, {st_l}[, {unit}], [{post} ]{city_l}[, {country_l}]", ""),
    91: ("{no}, {st_l}, [{post} ]{city_l}", ""),
    92: ("[{flat:Unit }, ]{no} {st_l}, {city_l}[ {post}][, {country_l}]", ""),
    # Singapore
    93: ("Blk {no} {st_l}[ {flat:#}], Singapore[ {post}]", ""),
    94: ("{no} {st_l}[, {unit}], Singapore[ {post}]", ""),
    95: ("[{flat:#}, ]{no} {st_l}, SINGAPORE[ {post}]", ""),
    # Elsewhere (India, Israel, Armenia, Georgia)
    96: ("{no} {st_l} {type_l}[, {unit}][, {prem}], {city_l}[ {post}][, {country_l}]", ""),
    97: ("{st_l} {type_l} {no}[, {flat:Apt }][, {prem}], {city_l}[ {post}][, {country_l}]", ""),
    98: ("[{flat:Flat }, ]{no}, {st_l} {type_s}, {city_l}[ - {post}]", ""),
}
# Weights of the forms per address convention (the `style` of COUNTRIES).
ADDRESS_STYLES = {
    "us": {10: 50, 11: 25, 12: 15, 13: 10},
    "gb": {14: 45, 15: 25, 16: 20, 17: 10},
    "de": {18: 45, 19: 25, 20: 20, 21: 10},
    "pl": {22: 45, 23: 35, 24: 20},
    "fr": {25: 45, 26: 20, 27: 25, 28: 10},
    "it": {29: 55, 30: 30, 31: 15},
    "es": {32: 55, 33: 35, 35: 10},
    "mx": {32: 20, 33: 25, 34: 30, 35: 25},
    "br": {36: 45, 37: 35, 38: 20},
    "ru": {39: 20, 40: 18, 41: 8, 42: 8, 43: 14, 44: 6, 45: 8, 46: 10, 47: 3},
    "ua": {48: 30, 49: 30, 50: 25, 51: 15},
    "vn": {52: 18, 53: 22, 54: 20, 55: 12, 56: 12, 57: 12, 58: 4},
    "th": {59: 25, 60: 30, 61: 20, 62: 15, 63: 10},
    "jp": {64: 30, 65: 35, 66: 25, 67: 10},
    "kr": {68: 30, 69: 35, 70: 25, 71: 10},
    "ae": {72: 32, 73: 28, 74: 10, 75: 12, 76: 18},
    "sa": {77: 35, 78: 30, 79: 15, 80: 20},
    "hk": {81: 55, 82: 30, 83: 15},
    "tw": {84: 40, 85: 45, 86: 15},
    "tr": {87: 40, 88: 35, 89: 25},
    "my": {90: 45, 91: 25, 92: 30},
    "sg": {93: 50, 94: 30, 95: 20},
    "generic": {96: 50, 97: 30, 98: 20},
}
# Which premises words an address convention uses (see PREMISES).
PREMISES_STYLE = {"ru": "ru", "ua": "ua", "de": "de", "ae": "ae", "sa": "ae", "pl": "pl", "jp": "jp"}
# Address forms in the country's own script or spelling (ул. Ленина, Hauptstraße, Số 12 Đường Lê Lợi):
# someone who writes his name in his own script mostly writes his address so too, and in Latin
# with a Latin name (one web form, one keyboard).
NATIVE_ADDRESS_FORMS = (18, 21, 22, 25, 28, 29, 31, 32, 34, 35, 36, 40, 41, 42, 46, 48, 51, 52, 56, 59, 63, 64, 68, 71,
                        74, 79, 82, 84, 87)
