"""The chat-completions surface: models, parse, rules, profiles, assembly, driver, builder."""
