package dev.tresor.rotation;

/** Receives each step's result as it finishes (the CLI prints a line), and warnings. */
public interface RotationListener {

    void step(StepResult result);

    /** Something a person must notice (e.g. TLS to the database disabled) that does not stop the run. */
    void warning(String message);

    RotationListener SILENT = new RotationListener() {
        @Override
        public void step(StepResult result) {}

        @Override
        public void warning(String message) {}
    };
}
