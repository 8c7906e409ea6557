package dev.mlserver.gateway.server;

/** One of the gateway's ports could not be had: which port, and the settings that choose it. */
final class CannotListen extends RuntimeException {
    static final String HTTP_SETTINGS = "--port, MLSERVER_PORT or server.port";
    static final String GRPC_SETTINGS = "--grpc-port, MLSERVER_GRPC_PORT or grpc.port";

    private final int port;
    private final String settings;

    CannotListen(int port, String settings, Throwable cause) {
        super(cause.getMessage(), cause);
        this.port = port;
        this.settings = settings;
    }

    int port() {
        return port;
    }

    String settings() {
        return settings;
    }
}
