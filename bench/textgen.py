"""Deterministic, realistic English news text for the benchmark.

Articles are built from sentence templates in the register of wire and
opinion pieces on China–US technology policy (datelines, attributed quotes,
figures, abbreviations such as "U.S.", "Mr.", "Inc.", "p.m.") mixed with the
sentences of the sample article shipped with the package. Everything is drawn
from one seeded ``random.Random``: the same seed gives the same text.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from annotate.ingest.segment import split_text

SAMPLE = Path(__file__).resolve().parent.parent / "annotate" / "data" / "china_us_ai_cooperation.txt"

OUTLETS = [
    ("Reuters", "UK"),
    ("Associated Press", "US"),
    ("Xinhua", "CN"),
    ("China Daily", "CN"),
    ("The New York Times", "US"),
    ("South China Morning Post", "HK"),
    ("Global Times", "CN"),
    ("The Washington Post", "US"),
    ("Financial Times", "UK"),
    ("Nikkei Asia", "JP"),
]
CITIES = ["BEIJING", "WASHINGTON", "SHANGHAI", "SAN FRANCISCO", "SHENZHEN", "NEW YORK", "HONG KONG", "GENEVA"]
AGENCIES = ["Reuters", "AP", "Xinhua", "AFP", "Bloomberg"]
MONTHS = ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ACTORS = [
    "China",
    "the United States",
    "Beijing",
    "Washington",
    "the Commerce Department",
    "China's Ministry of Commerce",
    "the European Union",
    "the White House",
    "the State Council",
    "Congress",
]
PEOPLE = [
    ("Mr.", "Wang", "a spokesman for the Foreign Ministry"),
    ("Ms.", "Raimondo", "the former commerce secretary"),
    ("Dr.", "Li", "a researcher at Tsinghua University"),
    ("Mr.", "Sullivan", "a former national security adviser"),
    ("Prof.", "Chen", "an economist at Peking University"),
    ("Ms.", "Huang", "an analyst at a Hong Kong brokerage"),
    ("Mr.", "Miller", "a senior fellow at a Washington think tank"),
    ("Gen.", "Zhao", "a retired officer"),
]
COMPANIES = [
    "Nvidia Corp.",
    "Huawei Technologies Co.",
    "Apple Inc.",
    "Alibaba Group Holding Ltd.",
    "Microsoft Corp.",
    "Baidu Inc.",
    "Tencent Holdings Ltd.",
    "Advanced Micro Devices Inc.",
]
TOPICS = [
    "AI governance",
    "export controls on advanced chips",
    "semiconductor supply chains",
    "large language models",
    "autonomous driving",
    "cross-border data flows",
    "AI safety research",
    "rare earth exports",
    "cloud computing",
    "open-source models",
]
LOADED = [
    "reckless",
    "hypocritical",
    "so-called",
    "bullying",
    "unprecedented",
    "historic",
    "draconian",
    "long-overdue",
    "misguided",
    "landmark",
]
VAGUE = [
    "Some in the U.S. argue",
    "Critics say",
    "Observers believe",
    "Industry insiders note",
    "Many experts warn",
    "People familiar with the matter said",
]
SLOGANS = [
    "small yards, high fences",
    "win-win cooperation",
    "decoupling and de-risking",
    "a community with a shared future",
    "the chip war",
    "a new Cold War",
]
VERBS = ["said", "told reporters", "wrote in a statement", "said in an interview", "noted"]

TEMPLATES = [
    "{actor} said on {day} it would review its rules on {topic}.",
    "{title} {name}, {role}, {verb} that talks on {topic} would continue.",
    '"We welcome dialogue on {topic}, but we will not accept {loaded} pressure," {title} {name} {verb}.',
    "{vague} that the {loaded} measures on {topic} will backfire.",
    "Shares of {company} rose {pct}% in early trading after the announcement.",
    "{company} Chief Executive {surname} said the company expected approx. ${bn} billion in new orders.",
    "The U.S. and China held a {n}-hour meeting in {city_title} at {hour} p.m. {day}, officials said.",
    "{actor} described the policy as {slogan}, a phrase that has drawn criticism abroad.",
    "According to a report published by {outlet}, exports of {topic_short} fell {pct}% in {month}.",
    "The move is {loaded}, {title} {name} {verb}.",
    "Imports of {topic_short} rose to ${bn} billion in the first {n} months of the year.",
    "{actor} and {actor2} agreed to set up a working group on {topic}.",
    "Analysts disagree about what the new rules on {topic} will achieve.",
    "{vague} that {actor} is using {topic} as a bargaining chip.",
    "The agreement, signed in {city_title}, covers {topic} and {topic2}.",
    "Is this the start of {slogan}?",
    "Officials from both sides met again on {day}.",
    "{title} {name} declined to comment on {topic}.",
    "The report cited {company} and {company2} as examples of firms hit by the rules.",
    "{actor} has repeatedly called for {slogan} in {topic}.",
    "It remains unclear whether {actor} will respond.",
    "The talks ended without a joint statement, but both sides called them constructive.",
    "Trade between the two countries reached ${bn} billion last year, up {pct}% from a year earlier.",
    "{vague} that the U.S. Department of Commerce moved too slowly on {topic}.",
]
SHORT_TOPICS = ["chips", "solar panels", "batteries", "servers", "graphics cards", "rare earths"]


@dataclass(frozen=True)
class GeneratedArticle:
    doc_id: str
    title: str
    text: str
    outlet: str
    country: str
    published: str
    url: str
    paragraphs: tuple[tuple[str, ...], ...]  # the sentences as written, by paragraph

    @property
    def sentences(self) -> int:
        return sum(len(p) for p in self.paragraphs)

    def truncated(self, sentences: int) -> GeneratedArticle:
        """The article cut after its first ``sentences`` sentences."""
        kept: list[tuple[str, ...]] = []
        left = sentences
        for para in self.paragraphs:
            if left <= 0:
                break
            kept.append(para[:left])
            left -= len(kept[-1])
        return replace(self, text=_join(kept), paragraphs=tuple(kept))


def _join(paragraphs: list[tuple[str, ...]]) -> str:
    return "\n\n".join(" ".join(p) for p in paragraphs)


def _sample_sentences() -> list[str]:
    text = SAMPLE.read_text(encoding="utf-8")
    return [text[s:e] for _, s, e in split_text(text) if len(text[s:e]) > 40]


def _fill(rng: random.Random, template: str) -> str:
    title, surname, role = rng.choice(PEOPLE)
    actor, actor2 = rng.sample(ACTORS, 2)
    topic, topic2 = rng.sample(TOPICS, 2)
    company, company2 = rng.sample(COMPANIES, 2)
    sentence = template.format(
        actor=actor,
        actor2=actor2,
        title=title,
        name=surname,
        surname=rng.choice(["Huang", "Cook", "Ren", "Nadella", "Ma", "Su"]),
        role=role,
        verb=rng.choice(VERBS),
        topic=topic,
        topic2=topic2,
        topic_short=rng.choice(SHORT_TOPICS),
        loaded=rng.choice(LOADED),
        vague=rng.choice(VAGUE),
        slogan=rng.choice(SLOGANS),
        company=company,
        company2=company2,
        pct=f"{rng.randint(1, 30)}.{rng.randint(0, 9)}",
        bn=f"{rng.randint(1, 900)}.{rng.randint(0, 9)}",
        n=rng.randint(2, 7),
        hour=rng.randint(1, 11),
        day=rng.choice(DAYS),
        month=rng.choice(MONTHS),
        city_title=rng.choice(CITIES).title(),
        outlet=rng.choice(OUTLETS)[0],
    )
    return sentence[0].upper() + sentence[1:]


def generate_articles(seed: int = 2024) -> Iterator[GeneratedArticle]:
    """An endless, deterministic stream of English news articles (15–45 sentences each)."""
    rng = random.Random(seed)
    sample = _sample_sentences()
    number = 0
    while True:
        number += 1
        outlet, country = rng.choice(OUTLETS)
        month = rng.randint(1, 12)
        day = rng.randint(1, 28)
        total = rng.randint(15, 45)
        paragraphs: list[tuple[str, ...]] = []
        written = 0
        first = True
        while written < total:
            size = min(total - written, rng.choice([1, 2, 2, 3, 3, 4]))
            sentences = []
            for _ in range(size):
                if rng.random() < 0.25:
                    sentences.append(rng.choice(sample))
                else:
                    sentences.append(_fill(rng, rng.choice(TEMPLATES)))
            if first:
                city = rng.choice(CITIES)
                dateline = f"{city}, {MONTHS[month - 1]} {day} ({rng.choice(AGENCIES)}) - "
                sentences[0] = dateline + sentences[0]
                first = False
            paragraphs.append(tuple(sentences))
            written += size
        topic = rng.choice(TOPICS)
        actor = rng.choice(ACTORS)
        title = f"{actor[0].upper()}{actor[1:]} weighs next steps on {topic}"
        yield GeneratedArticle(
            doc_id=f"bench-{number:06d}",
            title=title,
            text=_join(paragraphs),
            outlet=outlet,
            country=country,
            published=f"2025-{month:02d}-{day:02d}",
            url=f"https://news.example.org/{number:06d}",
            paragraphs=tuple(paragraphs),
        )


def articles_with_sentences(count: int, seed: int = 2024) -> list[GeneratedArticle]:
    """Articles from the stream holding exactly ``count`` generated sentences (the last one cut short)."""
    out: list[GeneratedArticle] = []
    total = 0
    for article in generate_articles(seed):
        if total >= count:
            break
        if total + article.sentences > count:
            article = article.truncated(count - total)
        out.append(article)
        total += article.sentences
    return out


def articles_with_bytes(size: int, seed: int = 7) -> list[GeneratedArticle]:
    """Whole articles from the stream until their text reaches ``size`` bytes of UTF-8."""
    out: list[GeneratedArticle] = []
    total = 0
    for article in generate_articles(seed):
        out.append(article)
        total += len(article.text.encode("utf-8"))
        if total >= size:
            return out
    raise AssertionError("unreachable")


def write_jsonl(articles: list[GeneratedArticle], path: Path) -> Path:
    """One article per line, in the JSONL layout ``annotate push`` reads."""
    with path.open("w", encoding="utf-8") as fh:
        for a in articles:
            row = {
                "id": a.doc_id,
                "title": a.title,
                "text": a.text,
                "outlet": a.outlet,
                "country": a.country,
                "published": a.published,
                "url": a.url,
                "language": "en",
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
