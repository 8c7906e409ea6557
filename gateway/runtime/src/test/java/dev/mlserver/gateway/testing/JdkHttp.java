package dev.mlserver.gateway.testing;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * Sending with the JDK's HTTP client, past one of its bugs: in JDK 17 the cleanup watcher of a
 * pooled HTTP/1.1 connection can still be reading when the connection is reused, take the next
 * exchange's answer and close the connection ("connection closed locally"; JDK-8338569, fixed in
 * JDK 24). The gateway had answered; the client threw the answer away. Such a request is sent
 * once more.
 */
public final class JdkHttp {
    private JdkHttp() {}

    /** Sends {@code request} with {@code client} and reads its answer as text. */
    public static HttpResponse<String> send(HttpClient client, HttpRequest request) throws IOException, InterruptedException {
        return send(client, request, HttpResponse.BodyHandlers.ofString());
    }

    /** Sends {@code request} with {@code client} and reads its answer with {@code body}. */
    public static <T> HttpResponse<T> send(HttpClient client, HttpRequest request, HttpResponse.BodyHandler<T> body)
            throws IOException, InterruptedException {
        try {
            return client.send(request, body);
        } catch (IOException e) {
            if (!lostToThePool(e)) {
                throw e;
            }
            return client.send(request, body);
        }
    }

    private static boolean lostToThePool(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if ("connection closed locally".equals(t.getMessage())) {
                return true;
            }
        }
        return false;
    }
}
