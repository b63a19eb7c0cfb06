"""The use cases: one function per thing a person does with circlebook."""
