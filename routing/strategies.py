"""Which agent gets a contact: the queue's strategy applied to its pool.

The pool (see :mod:`routing.queues`) already holds only agents who are present, not in
wrap-up, serve the queue and have room on the contact's channel, sorted best-first by
the strategy's key.  What is left to check per candidate is the contact's own needs
(skills, language) and whether the agent already passed on this contact.

An agent who declined the contact (or let its offer expire, or transferred it away) is
a candidate of last resort: they are chosen only when no other eligible agent exists,
so a visitor is never left waiting next to an agent who could take them.

* ``longest_idle``: first eligible in pool order (idle agents, longest idle first).
* ``least_occupied``: first eligible in pool order (fewest contacts held).
* ``round_robin``: the first eligible agent after the last one this queue offered to,
  in agent-id order, wrapping around.
* ``best_skill``: highest proficiency summed over the contact's required skills; ties
  go to the earlier agent in longest-idle order.  This one reads the whole pool (the
  score depends on the contact), stopping early at the best score possible.
* ``manual``: never called (agents take contacts themselves).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, takewhile

from routing.queues import QueueState
from routing.records import MAX_PROFICIENCY, AgentRecord, ContactRecord
from routing.sortedlist import Key, SortedList


def fits(agent: AgentRecord, contact: ContactRecord) -> bool:
    """The contact's own requirements: every required skill, and the language."""
    if contact.language is not None and contact.language not in agent.language_set:
        return False
    return contact.skill_set <= agent.skill_set


def _rotation(queue: QueueState, pool: SortedList) -> Iterator[Key]:
    """The pool in agent-id order starting just after the last agent offered to."""
    last = queue.rr_last
    if last is None:
        return iter(pool)
    marker: Key = (last,)
    return chain(pool.iter_after(marker), takewhile(lambda entry: entry <= marker, pool))


def pick_agent(
    queue: QueueState,
    contact: ContactRecord,
    agents: dict[str, AgentRecord],
    *,
    allow_passed: bool = True,
) -> str | None:
    """The agent to offer ``contact`` to, or None when no eligible agent has room."""
    pool = queue.pools[contact.channel]
    if not pool:
        return None
    passed = contact.passed
    strategy = queue.config.strategy
    if strategy == "manual":
        return None
    if strategy == "best_skill":
        return _best_skill(pool, contact, agents, allow_passed)
    walk: Iterable[Key] = _rotation(queue, pool) if strategy == "round_robin" else pool
    fallback: str | None = None
    for entry in walk:
        agent_id: str = entry[-1]
        agent = agents[agent_id]
        if not fits(agent, contact):
            continue
        if agent_id in passed:
            if fallback is None:
                fallback = agent_id
            continue
        return agent_id
    return fallback if allow_passed else None


def _best_skill(
    pool: SortedList,
    contact: ContactRecord,
    agents: dict[str, AgentRecord],
    allow_passed: bool,
) -> str | None:
    """Highest summed proficiency; the pool is in longest-idle order, so the first agent
    reaching a score wins ties, and an agent with the top score possible stops the walk.
    A contact that needs no skill is a plain longest-idle pick."""
    best: tuple[int, str] | None = None
    best_passed: tuple[int, str] | None = None
    passed = contact.passed
    ceiling = MAX_PROFICIENCY * len(contact.skills)
    for entry in pool:
        agent_id: str = entry[-1]
        agent = agents[agent_id]
        if not fits(agent, contact):
            continue
        score = agent.skill_score(contact.skills)
        if agent_id in passed:
            if best_passed is None or score > best_passed[0]:
                best_passed = (score, agent_id)
        elif best is None or score > best[0]:
            best = (score, agent_id)
            if score >= ceiling:
                break
    if best is not None:
        return best[1]
    if allow_passed and best_passed is not None:
        return best_passed[1]
    return None
