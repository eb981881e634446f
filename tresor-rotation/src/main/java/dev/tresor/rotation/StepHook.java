package dev.tresor.rotation;

/** Called after each step completes, before the next one starts. */
@FunctionalInterface
public interface StepHook {

    void reached(Step step);

    StepHook NONE = step -> {};
}
