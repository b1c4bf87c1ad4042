#!/usr/bin/env python3
"""Writes the hand-written quirk fixtures <region>/<kind>_<case>.<ext> (issue 14): exports as real
department systems produce them, typed here row by row (not made by `carehub gen`), then encoded
as the department's system would. Run from anywhere; review the diff; then regenerate the golden
outputs: CAREHUB_REGENERATE_GOLDEN=1 build/asan/tests/connectors_tests --gtest_filter='Profiles/*'
"""
import os
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))


def write(rel, data):
    with open(os.path.join(HERE, rel), 'wb') as f:
        f.write(data)


# Shanghai: GBK CSV saved from Excel: delimiter-only rows, a NUL byte in an id, a stray quote.
sh = [
    '评估编号,姓名,性别,身份证号,户籍区划代码,评估等级,评估日期,有效期至,评估机构统一社会信用代码,评估机构名称,评估机构区划代码,状态',
    'SH-Q-0001,王秀英,女,31011519491231010X,310115,正常,2024/03/15,2026/03/15,52310115MJ0000000D,浦东新区第一养老院,310115,有效',
    ',,,,,,,,,,,',
    'SH-Q-0002,李建国,男,310115193805200138,310104,照护一级,2023/11/02,2025/11/02,52310104MJ0000001J,上海市长者照护评估中心,310104,有效',
    'SH-Q-\x000003,李建国,男,310115193805200138,310104,照护一级,2023/11/02,2025/11/02,52310104MJ0000001J,上海市长者照护评估中心,310104,有效',
    'SH-Q-0004,张"小"红,女,310115193805200138,310104,照护二级,2023/11/02,2025/11/02,52310104MJ0000001J,上海市长者照护评估中心,310104,有效',
    ',,,,,,,,,,,',
]
write('shanghai/assessment_excel.csv', ('\r\n'.join(sh) + '\r\n').encode('gbk'))

# Jiangsu: a JSON export written twice into one file, an NDJSON line and a trailer after it,
# a duplicated key.
rec = ('{"jgbh": "JI-Q-%d", "jgmc": "南京市秦淮区颐养院", "tyshxydm": "52320100MJ0000000R", '
       '"szqh": "320100", "dj": %s, "cws": 120, "pdrq": "20240315", "yxqz": "20260315", "zt": "1"}')
js = ('[\n' + rec % (1, '1') + ',\n' + rec % (2, '2, "dj": 5') + '\n]\n'
      '[\n' + rec % (3, '3') + '\n]\n' + rec % (4, '4') + '\n-- 导出结束 --\n')
write('jiangsu/facility_concatenated.json', js.encode('utf-8'))

# Zhejiang: GBK-declared XML with a prefixed namespace (zj:), attribute ids, an entity.
zj = ('<?xml version="1.0" encoding="GBK"?>\n'
      '<zj:FacilityExport xmlns:zj="http://mca.zj.gov.cn/ylfw/2023">\n'
      '  <zj:Facility id="ZH-Q-0001"><zj:Name>杭州市福利中心&amp;分院</zj:Name>'
      '<zj:CreditCode>52330100MJ0000000X</zj:CreditCode><zj:DivisionCode>330100</zj:DivisionCode>'
      '<zj:StarRating>一星级</zj:StarRating><zj:Beds>120</zj:Beds><zj:RatedDate>2024-03-15</zj:RatedDate>'
      '<zj:ValidUntil>2026-03-15</zj:ValidUntil><zj:Status>有效</zj:Status></zj:Facility>\n'
      '  <zj:Facility id="ZH-Q-0002"><zj:Name>浙江省老年评估中心</zj:Name>'
      '<zj:CreditCode>52330102MJ0000001X</zj:CreditCode><zj:DivisionCode>330102</zj:DivisionCode>'
      '<zj:StarRating>六星级</zj:StarRating><zj:Beds>45</zj:Beds><zj:RatedDate>2023-11-02</zj:RatedDate>'
      '</zj:Facility>\n'
      '</zj:FacilityExport>\n')
write('zhejiang/facility_gbk_prefixed.xml', zj.encode('gbk'))

# Anhui: the same CSV saved as "Unicode text" (UTF-16LE with a byte-order mark) by Excel.
an = [
    '流水号,参保人姓名,公民身份号码,常住地区划,失能等级,评估日期,结论有效期至,评估机构信用代码,评估机构名称,评估机构区划,结论状态',
    'AN-Q-0001,杨玉兰,340104194912310106,340100,基本正常,2024-03-15,2026-03-15,52340100MJ00000002,合肥市第一社会福利院,340100,正常',
    'AN-Q-0002,黄德胜,340104193805200134,340102,轻度失能,2023-11-02,2025-11-02,52340102MJ00000012,"安徽省长护险评估中心,分部",340102,正常',
]
write('anhui/assessment_utf16.csv', b'\xff\xfe' + ('\r\n'.join(an) + '\r\n').encode('utf-16-le'))

# Guangdong: semicolon CSV with a BOM from Excel: delimiter-only rows, full-width spaces.
gd = [
    '\ufeff机构编码;机构名称;统一社会信用代码;地市区划;等级;床位数;评定日期;有效期至;状态',
    'GU-Q-0001;广州市老人院;52440100MJ0000000Q;440100;\u3000一级\u3000;120;2024/3/15;2026/3/15;有效',
    ';;;;;;;;',
    'GU-Q-0002;广东省老年人能力评估中心;52440300MJ00000016;440300;二级;45;2023/11/2;2025/11/2;有效',
    ';;;;;;;;',
]
write('guangdong/facility_excel.csv', ('\r\n'.join(gd) + '\r\n').encode('utf-8'))

# Hong Kong: Big5-HKSCS (not code page 950): 邨 峯 綫 啓 着 in estate and street names.
hk = [
    '記錄編號,姓名,香港身份證號碼,職位,註冊編號,登記日期,有效期至,僱主院舍牌照號碼,僱主院舍名稱,狀態',
    'HO-Q-0001,陳大文,A123456(3),護理員,812019000000,15/03/2024,15/03/2026,RCHE-2000,石硤尾邨護老院,有效',
    'HO-Q-0002,黃小英,E364912(5),保健員,812020000001,02/11/2023,02/11/2025,RCHE-2001,峯景安老院(東涌綫),有效',
    'HO-Q-0003,李啓明,A123456(3),護理員,812020000002,02/11/2023,02/11/2025,RCHE-2002,着意護理院,有效',
]
write('hongkong/caregiver_hkscs.csv', ('\r\n'.join(hk) + '\r\n').encode('big5hkscs'))

# Macau: keys and texts in decomposed Unicode (NFD, as macOS writes them), an escaped NUL.
mo_rec = ('{"numero_processo": "%s", "nome": "Ho Kuok Wa", "numero_BIR": "1234567(8)", "sexo": "F", '
          '"data_nascimento": "31-12-1949", "grau_dependencia": "%s", "data_avaliacao": "15-03-2024", '
          '"valido_ate": "15-03-2026", "entidade_avaliadora": "Lar de Idosos da Taipa", '
          '"codigo_entidade": "IAS-1000", "estado": "%s"}')
mo = ('[\n' + mo_rec % ('MA-Q-0001', unicodedata.normalize('NFD', 'dependência ligeira'),
                        unicodedata.normalize('NFD', 'válido')) + ',\n'
      + mo_rec % ('MA-Q-0002', 'dependência grave', 'válido') + ',\n'
      + mo_rec % ('MA-Q-\\u00000003', 'dependência grave', 'válido') + '\n]\n')
write('macau/assessment_nfd.json', mo.encode('utf-8'))
