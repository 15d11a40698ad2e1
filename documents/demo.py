"""Demo materials of the 策定委員会 第1回 from the seed: 資料1–3 as PDFs made from the seed's text, the
次第, 出席者名簿 and 席図 printed by the print templates (public, as the seed lists them), and one
members-only material to show the rule.

Idempotent: a material that has a file is left as it is (the secretariat may have replaced it), and the
extra material is added only once. The project carries the text itself; it never reads ../shared.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from committee.demo import ARTICLES, COMMITTEE, GUIDELINE_TITLE, MEMBERS
from meetings.access import Access
from meetings.models import Meeting

from . import services
from .models import Material
from .pdf import render_pdf
from .print_views import agenda_context, attendance_context, material_line, seating_context

PUBLIC, MEMBERS_ONLY = Material.Visibility.PUBLIC, Material.Visibility.MEMBERS
DEMO_TEMPLATE = "documents/print/demo_document.html"
SEED_TAG = "2023.5.10「(仮称)青森県DX推進プラン」策定委員会"
EXTRA_LABEL = "参考資料1"
EXTRA_TITLE = "委員意見シート(委員限り・デモ)"

# --- 資料1: the 設置要綱 and its 別表 ----------------------------------------------------------------


def _guideline_blocks() -> list[tuple[str, object]]:
    blocks: list[tuple[str, object]] = [("h1", GUIDELINE_TITLE)]
    for kind, number, heading, text in ARTICLES:
        lines = text.splitlines()
        if kind == "supplementary":
            blocks += [("h3", number), ("p", text)]
            continue
        blocks += [("h3", f"({heading})"), ("p", f"{number} {lines[0]}")]
        if lines[1:]:
            blocks.append(("ul", lines[1:]))
    blocks += [
        ("break", None),
        ("h3", "別表"),
        ("h2", "「（仮称）青森県DX推進プラン」策定委員会委員名簿"),
        ("right", "(五十音順、敬称略)"),
        # The names and affiliations as committee/demo.py records them (the seed's 「A0IT」 read as AOIT).
        (
            "table",
            {
                "head": ["No.", "氏名", "所 属"],
                "rows": [
                    [str(i), f"{family} {given}", affiliation]
                    for i, (family, given, _reading, affiliation) in enumerate(MEMBERS, start=1)
                ],
            },
        ),
        ("right", "令和5年5月\n青森県企画政策部\nDX推進課"),
    ]
    return blocks


# --- 資料2: (仮称)青森県DX推進プランの策定及び推進について --------------------------------------------

PLAN_TITLE = "(仮称)青森県DX推進プランの策定及び推進について"
SCHEDULE_HEAD = ["", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月", "1月", "2月", "3月"]
SCHEDULE_ROWS = [
    [
        "プラン策定委員会",
        "",
        "第1回 ◆ 5/10",
        "第2回 ◆ 6/7 骨子案検討",
        "第3回 7/26 ◆ 素案検討",
        "",
        "↔ パブコメ",
        "第4回 ◆ 原案検討",
        "",
        "",
        "",
        "",
        "",
    ],
    ["DX推進本部", "", "", "6/2 ◎ 設立", "", "", "", "", "", "", "", "", "◆ プラン了承"],
    [
        "幹事会",
        "",
        "5/22 ◇ 準備会",
        "",
        "",
        "◇ プラン素案 検討",
        "↔ R6事業構築等に向け適宜開催",
        "",
        "",
        "",
        "◇ プラン原案 検討",
        "",
        "",
    ],
]
PLAN_BLOCKS: list[tuple[str, object]] = [
    ("h1", PLAN_TITLE),
    ("h2", "1 策定の趣旨"),
    (
        "ul",
        [
            "・ 人口減少やコロナ禍の長期化を経て、社会情勢が大きく変化し、これまで以上にデジタル技術を活用して、"
            "新たなしごとや働き方を創出する必要性が高まっている。",
            "・ デジタル技術の進展により、一人ひとりの状況に応じたきめ細かいサービスが低コストで提供できるようになり、"
            "国ではデジタル技術の活用による地方創生に舵を切っている。",
        ],
    ),
    (
        "indent",
        "令和5年3月に作成した「青森県DX推進方向」(以下、DX推進方向)を基に、本県におけるDX推進の指針となる"
        "「(仮称)青森県DX推進プラン」(以下、DXプラン)を策定する。",
    ),
    ("h2", "2 次期青森県基本計画及び行財政改革大綱との関係"),
    (
        "indent",
        "DXプランは、次期青森県基本計画及び行財政改革大綱と整合性を図りつつ、あらゆる分野におけるDX推進の指針"
        "(取組方針)を示すとともに、各施策の取組を加速化する個別計画(アクションプラン)として位置づけられるものとする。",
    ),
    ("h2", "3 期間"),
    ("indent", "2024年度(令和6年度)～2028年度(令和10年度)の5年間"),
    ("h2", "4 策定時期"),  # the seed prints 「策定期期」, a misprint
    ("indent", "次期青森県基本計画及び行財政改革大綱の策定と合わせ、今年度中に策定する予定。"),
    ("h2", "5 構成案"),
    ("indent", "○基本的な考え(青森県はDXでもっとおもしろくなる)\n○はじめに(趣旨・目的、位置づけ、期間、構成)"),
    (
        "ul",
        [
            "1 現状、課題、ニーズ(国や県、市町村の動向等)",
            "2 めざす姿(「産業・しごと」、「暮らし・まち」、「行政経営」)",
            "3 施策・取組の体系(「産業・しごと」、「暮らし・まち」、「行政経営」)",
            "4 めざす姿の実現に向けた主な取組(体系別)",
            "5 重点分野・重点化",
            "6 推進体制",
            "7 資料等",
        ],
    ),
    ("indent", "※ DX推進方向をたたき台として、めざす姿や施策・取組内容等について、具体的な内容を盛り込むこととする。"),
    ("h2", "6 推進体制"),
    ("h3", "(1) (仮称)青森県DX推進本部等の設置"),
    (
        "indent",
        "DXプラン推進のため、IT戦略推進委員会を改組し、以下の組織で構成する「(仮称)青森県DX推進本部」を"
        "設置する。また、推進本部の外部組織として有識者等で構成する「(仮称)青森県DX推進プラン策定委員会」を設置する。(次頁参照)",
    ),
    (
        "ul",
        [
            "① (仮称)青森県DX推進本部会議(庁議メンバー)",
            "② 情報システム投資委員会(行政経営課所管)",
            "③ 情報セキュリティ委員会(行政経営課所管)",
            "④ 幹事会",
            "⑤ (仮称)青森県DX推進プラン策定委員会(外部有識者)",
        ],
    ),
    ("h3", "(2) DX総合支援窓口の設置"),
    (
        "indent",
        "県内事業者等の相談にワンストップで対応するため、新産業創造課が設置するDX総合支援窓口が中心となり、"
        "各主体の取組を促進する。",
    ),
    ("h3", "(3) DX推進課の役割"),
    (
        "ul",
        [
            "① DX推進課は、(仮称)青森県DX推進プランの策定及び進行管理を通じて、庁内におけるDXの推進を牽引していく"
            "とともに、関係課との連携によるDX関連事業の構築、市町村に対するデジタル実装支援や横展開の促進を行う。",
            "② 新産業創造課が設置するDX総合支援窓口における相談内容をニーズと捉え、庁内に共有した上で、"
            "事業化について検討する。",
        ],
    ),
    ("break", None),
    ("h2", "推進体制（予定）"),
    ("indent", "（図は省略）"),
    ("h2", "2023年度スケジュール（予定）"),
    ("schedule", {"head": SCHEDULE_HEAD, "rows": SCHEDULE_ROWS}),
]

# --- 資料3: 青森県DX推進方向 (an excerpt; the figures are left out) ------------------------------------

DIRECTION_BLOCKS: list[tuple[str, object]] = [
    ("h1", "青森県DX推進方向"),
    ("right", "令和5年3月7日(火)\n企画政策部"),
    ("note", "デモデータ: 原資料の本文から抜粋して収録しています。図表は省略しています。"),
    (
        "ul",
        [
            "○ 人口減少やコロナ禍の長期化を経て、社会情勢が大きく変化し、これまで以上にデジタル技術を活用して、"
            "新たなしごとや働き方を創出する必要性が高まっている。",
            "○ デジタル技術の進展により、一人ひとりの状況に応じたきめ細かいサービスが低コストで提供できるようになり、"
            "国ではデジタル技術の活用による地方創生に舵を切っている。",
        ],
    ),
    (
        "p",
        "令和5年度の「青森県DX推進プラン(仮称)」の策定に先立ち、現状を把握し、基本となる方向性を庁内ワーキング"
        "グループにおいて取りまとめ、報告するものである。",
    ),
    (
        "p",
        "※本資料では、デジタルのフェーズが進んでいくこと(デジタイゼーション、デジタライゼーション)をデジタル化、"
        "それらを経て新たなビジネスモデルや仕組みの変革をもたらすものをDXとして表記している。",
    ),
    ("h2", "2 なぜ今DXが必要か"),
    ("h3", "(1) デジタル化の加速等による社会経済環境の変化"),
    (
        "p",
        "■ デジタル化の加速度的な進展\n新型コロナウイルス感染症の感染拡大は、外出行動の抑制や3密(密閉・密集・密接)を"
        "避けた行動など、日常生活や経済活動が大きく変化した。これをきっかけとして、デジタル化の流れは加速度的に進展し、"
        "地方においてもデジタル化の取組が急速に進められている。",
    ),
    (
        "p",
        "■ 変革によりもたらされるチャンス\n生産年齢人口が減少し、かつ、超高齢社会の中でも住民サービスの維持・"
        "経済成長を実現するには、様々な変革に積極的に取り組む必要があり、デジタル技術の活用は労働生産性の向上や効率化を図る"
        "大きなチャンスである。",
    ),
    (
        "p",
        "■ 2025年の崖\n企業が既存システムを更新しなければ、2025年以降、セキュリティリスクの増大等により、社会全体で"
        "最大12兆円/年の経済損失が生じる可能性がある。(経済産業省「DXレポート」より)",
    ),
    ("h3", "(2) DXが持つ可能性"),
    (
        "table",
        {
            "head": ["分野", "DXが持つ可能性"],
            "rows": [
                [
                    "産業・しごと分野",
                    "・革新的なビジネスモデルの展開が促進され、起業・創業や新分野への参入が期待できる。\n"
                    "・業務システムの再構築を通じた経営の効率化などにより労働生産性が向上し、企業の成長や産業の発展が期待できる。",
                ],
                [
                    "暮らし・まち分野",
                    "・暮らしの中の様々な場面で、デジタル技術の活用によるサポートや省力化・効率化が図られることにより、"
                    "住民の利便性が向上することが期待できる。\n"
                    "・過疎化や高齢化の進展に伴い生じる多くの地域課題(孤立・孤独、地域交通の維持・確保、見守り、子育て支援等)の"
                    "解決に寄与することが期待できる。",
                ],
                [
                    "行政経営分野",
                    "・対面、記入、押印など、住民サービスを提供する上で必須だった事項が省略できるようになり、住民の利便性が"
                    "向上することが期待できる。\n"
                    "・業務をデジタル化して省力化することにより、政策分野に人的資源を集中的に投入することが期待できる。",
                ],
            ],
        },
    ),
    ("h2", "3 DXをめぐる最近の状況"),
    ("h3", "(1) 国の主な動向"),
    (
        "p",
        "■ デジタル庁\n2021年9月1日に創設。「デジタル社会の実現に向けた重点計画」が2022年6月に閣議決定され、"
        "行政サービスや暮らし、産業のデジタル化や人材育成、システム・技術などの基盤構築を施策としている。",
    ),
    (
        "p",
        "■ 内閣官房\n2022年12月23日に「デジタル田園都市国家構想総合戦略」を閣議決定。地域の個性や魅力を生かした"
        "地域ビジョンを再構築し、デジタルの力を活用した地方の社会課題を解決ことが求められている。",
    ),
    (
        "p",
        "■ 経済産業省\n企業のDX推進に向け、デジタル技術による社会変革を踏まえた経営ビジョンの策定・公表といった"
        "経営者に求められる対応を「デジタルガバナンス・コード」として取りまとめ、企業のDXレベルでの認定や優良企業選定等の"
        "施策を提供している。",
    ),
    (
        "p",
        "■ 総務省\n2022年9月に自治体DX推進計画を改定。自治体は、DX推進体制の構築や業務システム改革等が求められ、"
        "それらに取り組む市町村については、都道府県の支援が求められている。",
    ),
    (
        "p",
        "■ その他の省庁\n厚生労働省(医療DX令和ビジョン2030)、農林水産省(農業DX構想)、文部科学省(文部科学省における"
        "デジタル化推進プラン)などの動きもある。",
    ),
    ("break", None),
    (
        "center",
        "新たなしごとや働き方で、産業を未来に紡ぐ。\n人と人がつながり、豊かさと安心を築く。\n\n"
        "日々わくわくする青森県を目指し、\n県民とともにDXを推進します。\n\n～青森県はDXでもっとおもしろくなる～",
    ),
    ("h3", "理念に込めた思い"),
    (
        "p",
        "DXを推進することにより、新たなしごとが生み出され、場所を問わない働き方も定着します。これにより本県の産業は"
        "たゆむことなく未来へと紡がれていきます。",
    ),
    (
        "p",
        "いかにDXが進展しようとも、人と人とのつながりは欠かすことができません。デジタル技術を活用しながら、相互に"
        "見守り合い、支え合い、助け合うこと。それにより豊かさと安心が築かれていきます。",
    ),
    (
        "p",
        "県民が、「この地に暮らしてよかった」「次はどんな新しいことが待っているのだろう」とわくわくするような社会。"
        "そんな「もっとおもしろくなる」青森県をめざしたい、という思いを込めて、県のみならず、県民や事業者、国や市町村など"
        "各主体とともにDXを推進していく必要があります。",
    ),
    ("h2", "5 各分野のめざすべき社会像"),
    (
        "table",
        {
            "head": ["分野", "めざすべき社会像"],
            "rows": [
                [
                    "産業・しごと分野",
                    "・ビックデータ等の活用や様々な変革により、新たなビジネスモデルや本県ならではの事業が創出されている社会。\n"
                    "・あらゆる産業分野でデジタル技術の活用が進み、生産効率や付加価値がさらに向上し、多様な働き方が実現している社会。",
                ],
                [
                    "暮らし・まち分野",
                    "・県民一人ひとりが、自分に合った生活サービスを受けられるとともに、必要なつながりが保たれ安心して生活できる社会。\n"
                    "・距離や時間、場所などの制約を受けることなく、誰もが自分らしくいきいきと活躍できる社会。\n"
                    "・平時だけではなく、災害時においても正確な情報が取得できるなど、安全に暮らせる社会。",
                ],
                [
                    "行政経営分野",
                    "・行政手続等について、デジタル技術を活用し、効率化することにより、県民生活の利便性向上や県内産業のさらなる"
                    "振興を進められるような政策分野に集中投資できている自治体。",
                ],
            ],
        },
    ),
    ("p", "めざす姿実現のため、特に「X(変革)」を意識しながら、以下3つの基本方針を柱としてDX推進に取り組む。"),
    ("h3", "基本方針1 「産業・しごと」を支えるDX"),
    (
        "p",
        "様々な変革を契機とした新たなビジネスモデルの創出や創業・起業への挑戦を支援するとともに、労働力人口の減少に"
        "伴う生産力の低下や多様な働き方への対応の遅れなど様々な課題の解決に向けて、産業・しごと両面からの視点でDXの推進に"
        "取り組む。",
    ),
    ("h3", "基本方針2 「暮らし・まち」を支えるDX"),
    (
        "p",
        "県民のニーズを把握するとともに、その実現に向けた生活サービスの提供体制の構築や、必要なつながりを維持できる"
        "環境づくり、さらには、デジタル技術を活用するための知識や機会等の格差の解消など、住民目線でのDXの推進に取り組む。",
    ),
    ("h3", "基本方針3 「行政経営」を支えるDX"),
    (
        "p",
        "複雑化・高度化する行政課題の解消に向けて、デジタル技術を活用し、持続可能かつ効率的であり、地域全体として"
        "最適化された行政サービスを実現するためのDXの推進に取り組む。特に行政経営分野においては、産業・しごと分野や"
        "暮らし・まち分野のDXを実現するための下支えとなるDXの推進に取り組む。",
    ),
    ("h3", "(1) 「青森県DX推進プラン(仮称)」の策定"),
    ("p", "3つの基本方針を柱とする、本県におけるDX推進の指針となるプラン「青森県DX推進プラン(仮称)」を策定する。"),
    ("h3", "(2) 2023年度事業(2月定例会で審議中)"),
    (
        "p",
        "あらゆる分野でのデジタルによる変革を進める。\n(例)スマート農業・林業の実証試験、県産品のEC展開の強化、"
        "事業者等の相談窓口の設置、インフラや観光客等のデータ利活用の基盤構築、暮らし・まち分野の市町村等のデジタル実装"
        "モデル構築支援、保健所業務の効率化、行政手続きや内部業務、税務などのデジタル化 など",
    ),
    ("h3", "(3) 推進体制"),
    ("p", "企画政策部が司令塔となり、全庁的に取組を推進する。"),
]

# --- the extra, members-only material -------------------------------------------------------------

EXTRA_BLOCKS: list[tuple[str, object]] = [
    ("h1", "委員意見シート"),
    ("center", "(委員限り)"),
    ("note", "この資料はデモデータです。委員だけが見られる資料の例として作ったもので、実際の会議資料ではありません。"),
    ("p", "議事について御意見がありましたら、会議の後、事務局まで御提出ください。"),
    (
        "table",
        {
            "head": ["項目", "御意見"],
            "rows": [
                ["氏名", ""],
                ["議事(1) (仮称)青森県DX推進プランの策定及び推進について", "\n\n\n\n"],
                ["議事(2) 意見交換\n(仮称)青森県DX推進プランにおける本県のめざす姿について", "\n\n\n\n"],
                ["その他", "\n\n\n"],
            ],
        },
    ),
]


# --- making the files -----------------------------------------------------------------------------


def _document_pdf(blocks, *, title: str, tag: str, tag_note: str = "") -> bytes:
    return render_pdf(DEMO_TEMPLATE, {"document_title": title, "blocks": blocks, "tag": tag, "tag_note": tag_note})


def _agenda_pdf(meeting: Meeting) -> bytes:
    access = Access(manage=True)
    context = agenda_context(meeting, user=None, access=access)
    if context is None:  # the demo approves each 次第 before printing it
        raise ValueError(f"{meeting} has no approved 次第 to print.")
    # The printed 次第 lists the meeting's materials as the seed's does, without anyone's view of them.
    official = meeting.materials.filter(withdrawn_at__isnull=True).exclude(label=EXTRA_LABEL).order_by("position", "id")
    context["materials"] = [material_line(m, mark_restricted=False) for m in official]
    return render_pdf("documents/print/agenda.html", context)


def _pdf_for(key: str, meeting: Meeting) -> bytes:
    if key == "次第":
        return _agenda_pdf(meeting)
    if key == "出席者名簿":
        return render_pdf("documents/print/attendance.html", attendance_context(meeting))
    if key == "席図":
        return render_pdf("documents/print/seating.html", seating_context(meeting))
    if key == "資料1":
        return _document_pdf(_guideline_blocks(), title=GUIDELINE_TITLE, tag="資料1", tag_note=SEED_TAG)
    if key == "資料2":
        return _document_pdf(PLAN_BLOCKS, title=PLAN_TITLE, tag="資料2", tag_note=SEED_TAG)
    if key == "資料3":
        return _document_pdf(DIRECTION_BLOCKS, title="青森県DX推進方向", tag="資料3", tag_note=SEED_TAG)
    raise KeyError(key)


# label, title as meetings/demo.py makes the rows, and who may see each once it has its file
PLAN = [
    ("", "次第", PUBLIC),
    ("", "出席者名簿", PUBLIC),
    ("", "席図", PUBLIC),  # the seed lists it with the public materials
    ("資料1", GUIDELINE_TITLE, PUBLIC),
    ("資料2", PLAN_TITLE, PUBLIC),
    ("資料3", "青森県DX推進方向", PUBLIC),
]


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{name}.pdf", data, content_type="application/pdf")


def _attach(meeting: Meeting, secretariat, position: int, label: str, title: str, visibility: str) -> int:
    """Give one of the seed's materials its PDF and its visibility; 0 if it had a file already."""
    rows = meeting.materials.filter(label=label) if label else meeting.materials.filter(label="", title=title)
    material = rows.first()
    key = label or title
    if material is None:
        services.material_create(
            actor=secretariat,
            meeting=meeting,
            title=title,
            label=label,
            position=position,
            upload=_upload(key, _pdf_for(key, meeting)),
            visibility=visibility,
        )
        return 1
    if material.current_version_id is not None:
        return 0
    if material.visibility != Material.Visibility.SECRETARIAT:
        # meetings/demo.py makes these rows public before they have a file; start them where a new material
        # starts, so that publishing after the upload is the recorded act (published_at, audit entry).
        services.material_set_visibility(
            actor=secretariat, material=material, visibility=Material.Visibility.SECRETARIAT
        )
    services.material_replace(actor=secretariat, material=material, upload=_upload(key, _pdf_for(key, meeting)))
    services.material_set_visibility(actor=secretariat, material=material, visibility=visibility)
    return 1


@transaction.atomic
def load(*, secretariat) -> dict[str, int]:
    """Attach the seed's materials to the 策定委員会's 第1回 and add the members-only example; returns counts."""
    meeting = (
        Meeting.objects.select_related("body__secretariat", "agenda__approved_version")
        .filter(body__slug=COMMITTEE, number=1)
        .first()
    )
    if meeting is None:
        return {"materials_attached": 0, "materials_created": 0}
    # The seed's materials are listed first, without files, so the 次第 printed below names them (【資料】).
    if not meeting.materials.exists():
        Material.objects.bulk_create(
            Material(meeting=meeting, label=label, title=title, position=position)
            for position, (label, title, _visibility) in enumerate(PLAN, start=1)
        )
    attached = sum(
        _attach(meeting, secretariat, position, label, title, visibility)
        for position, (label, title, visibility) in enumerate(PLAN, start=1)
    )
    created = 0
    if not meeting.materials.filter(label=EXTRA_LABEL).exists():
        data = _document_pdf(EXTRA_BLOCKS, title=EXTRA_TITLE, tag=EXTRA_LABEL, tag_note=SEED_TAG)
        services.material_create(
            actor=secretariat,
            meeting=meeting,
            title=EXTRA_TITLE,
            label=EXTRA_LABEL,
            upload=_upload(EXTRA_LABEL, data),
            visibility=MEMBERS_ONLY,
        )
        created = 1
    return {"materials_attached": attached, "materials_created": created}


# --- the live part: materials of the past meeting and of next month's ---------------------------------

LIVE_REPORT_TITLE = "青森県DX推進プランの取組状況(デモ)"
LIVE_REPORT_BLOCKS: list[tuple[str, object]] = [
    ("h1", LIVE_REPORT_TITLE),
    ("note", "この資料はデモデータです。取組や数値は説明用の架空のものです。"),
    ("h2", "1 重点分野の取組"),
    (
        "table",
        {
            "head": ["分野", "主な取組", "状況"],
            "rows": [
                ["産業・しごと", "DX総合支援窓口による相談対応、スマート農業の実証", "実施中"],
                ["暮らし・まち", "市町村のデジタル実装モデル構築支援", "実施中"],
                ["行政経営", "行政手続のオンライン化、内部業務のデジタル化", "一部完了"],
            ],
        },
    ),
    ("h2", "2 今後の予定"),
    ("p", "次回の会議で、取組の成果指標と来年度の重点化の方向について御意見を伺う予定。"),
]
LIVE_SHEET_TITLE = "委員意見シート(委員限り・デモ)"


def _live_tag(meeting: Meeting) -> str:
    return f"{meeting.when_ja} {meeting.body.short_name} {meeting.label}"


@transaction.atomic
def load_live(*, secretariat, past: Meeting | None, upcoming: Meeting | None) -> dict[str, int]:
    """Materials of the live meetings (meetings.demo.load_live): the past meeting's 資料1 and its
    出席者名簿, next month's 資料1 (public) and an opinion sheet for members only. A meeting that has
    materials already (the seed's 第1回, or a second load) is left as it is."""
    made = 0
    plan: list[tuple[Meeting | None, list[tuple[str, str, str]]]] = [
        (past, [("資料1", LIVE_REPORT_TITLE, PUBLIC), ("", "出席者名簿", PUBLIC)]),
        (upcoming, [("資料1", LIVE_REPORT_TITLE, PUBLIC), (EXTRA_LABEL, LIVE_SHEET_TITLE, MEMBERS_ONLY)]),
    ]
    for meeting, materials in plan:
        if meeting is None or meeting.materials.exists():
            continue
        for position, (label, title, visibility) in enumerate(materials, start=1):
            if title == "出席者名簿":
                data = render_pdf("documents/print/attendance.html", attendance_context(meeting))
            elif visibility == MEMBERS_ONLY:
                data = _document_pdf(EXTRA_BLOCKS[:3], title=title, tag=label, tag_note=_live_tag(meeting))
            else:
                data = _document_pdf(LIVE_REPORT_BLOCKS, title=title, tag=label, tag_note=_live_tag(meeting))
            services.material_create(
                actor=secretariat,
                meeting=meeting,
                title=title,
                label=label,
                position=position,
                upload=_upload(label or title, data),
                visibility=visibility,
            )
            made += 1
    return {"live_materials": made}
