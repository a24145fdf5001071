"""Synthetic Chinese policy-news vocabulary and sentences, shared by the crash and hostile-input benches."""

from __future__ import annotations

import random

PLACES = "昆明 磨憨 玉溪 曲靖 大理 丽江 西双版纳 红河 文山 保山 普洱 临沧 楚雄 昭通 德宏 怒江 迪庆 贵阳 南宁 成都 重庆".split()
TOPICS = (
    "产业园区 招商引资 口岸经济 跨境物流 数字经济 绿色能源 营商环境 乡村振兴 科技创新 人才引进 生物医药 "
    "现代农业 文化旅游 对外开放 基础设施 高原特色农业 新能源汽车 光伏发电 铁路货运 中老铁路 自由贸易试验区"
).split()
VERBS = "推进 加快 落实 深化 优化 统筹 支持 建设 培育 打造 完善 提升 推动 实施".split()
TAILS = (
    "形成协调联动的发展新格局 带动就业岗位持续增加 实现项目早落地早投产 推动区域经济高质量发展 "
    "为企业提供全流程服务 进一步扩大高水平对外开放 助力产业链上下游协同 促进城乡区域协调发展"
).split()


def policy_sentence(rng: random.Random, serial: str | int, topics: int = 1) -> str:
    """One sentence naming a place, ``topics`` topics and project number ``serial`` (so texts never repeat)."""
    topic = "".join(rng.choice(TOPICS) for _ in range(topics))
    return (
        f"{rng.choice(PLACES)}市{rng.choice(VERBS)}{topic}工作，第{serial}号项目"
        f"计划投资{rng.randint(1, 999)}.{rng.randint(0, 99):02d}亿元，{rng.choice(TAILS)}。"
    )
