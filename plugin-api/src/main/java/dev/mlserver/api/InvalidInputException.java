package dev.mlserver.api;

/** An instance does not fit the classifier's input schema; the client gets a 400 with the message. */
public class InvalidInputException extends ClassifierException {
    public InvalidInputException(String message) {
        super(message);
    }

    /** The same problem, prefixed with the position of the instance in its batch. */
    public InvalidInputException at(int index) {
        return new InvalidInputException("instance " + index + ": " + getMessage());
    }
}
