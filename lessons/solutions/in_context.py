"""Solutions to lesson 9's exercises (lessons/exercises/in_context.py checks them)."""


def few_shot_prompt(task, shots, query):
    # the instruction, then one solved example per line, then the query waiting for its answer
    lines = [task.instruction] + [f"{question}: {answer}" for question, answer in task.examples[:shots]]
    return "\n".join(lines + [f"{query}:"])


def rules_that_fit(pairs, rules):
    def apply(rule, word):  # capitalize where the rule has a capital; a digit stays a digit
        return "".join(c.upper() if r.isupper() else c for c, r in zip(word, rule))

    return [rule for rule in rules if all(apply(rule, x) == y for x, y in pairs)]
