package cn.gridwork

import java.io.BufferedReader
import java.io.InputStreamReader
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit

/**
 * A real `gridwork-server` process on a free loopback port with a temporary data directory,
 * and its admin API. `bindings/test.sh` builds the server and passes its path in
 * `GRIDWORK_SERVER_BIN`.
 */
class TestServer : AutoCloseable {
    private val dataDir: Path = Files.createTempDirectory("gridwork-server")
    private val process: Process
    private val http: HttpClient = HttpClient.newHttpClient()

    /** The server's base URL, `http://127.0.0.1:PORT`. */
    val url: String

    init {
        val bin = System.getenv("GRIDWORK_SERVER_BIN")
            ?: error("GRIDWORK_SERVER_BIN is unset: run the tests with bindings/test.sh")
        val pb = ProcessBuilder(bin, "--listen", "127.0.0.1:0", "--data-dir", dataDir.toString())
        pb.environment().apply {
            put("GRIDWORK_ADMIN_TOKEN", ADMIN_TOKEN)
            put("GRIDWORK_LOG", "warn")
            remove("GRIDWORK_DATABASE_URL")
            remove("GRIDWORK_CONFIG")
        }
        pb.redirectError(ProcessBuilder.Redirect.INHERIT)
        process = pb.start()
        val lines = BufferedReader(InputStreamReader(process.inputStream, Charsets.UTF_8))
        val listening = CompletableFuture<String>()
        // Reads the address, then keeps draining stdout so the server never blocks on a full pipe.
        Thread {
            lines.useLines { seq ->
                for (line in seq) {
                    val rest = line.substringAfter("listening on http://", "")
                    if (rest.isNotEmpty()) listening.complete(rest.trim())
                }
            }
            listening.completeExceptionally(IllegalStateException("gridwork-server exited before listening"))
        }.apply { isDaemon = true }.start()
        url = "http://" + listening.get(60, TimeUnit.SECONDS)
    }

    /** Calls the admin API and returns the answer's body; fails on a non-2xx status. */
    fun admin(method: String, path: String, json: String? = null): String {
        val body = if (json == null) HttpRequest.BodyPublishers.noBody() else HttpRequest.BodyPublishers.ofString(json)
        val request = HttpRequest.newBuilder(URI.create("$url/admin/v1$path"))
            .header("Authorization", "Bearer $ADMIN_TOKEN")
            .header("Content-Type", "application/json")
            .method(method, body)
            .build()
        val answer = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(answer.statusCode() in 200..299) { "$method $path: ${answer.statusCode()} ${answer.body()}" }
        return answer.body()
    }

    /** Creates the areas of [AREAS] down to the grid and its micro-grids. */
    fun createAreas() {
        for (a in AREAS) admin("POST", "/areas", """{"path":"${a.path}","name":"${a.name}"}""")
    }

    /** Creates a user with one role on [area]; returns their id. */
    fun createUser(name: String, role: String, area: String): String {
        val answer = admin("POST", "/users", """{"name":"$name","roles":[{"role":"$role","area":"$area"}]}""")
        return field(answer, "id")
    }

    /** A fresh one-time enrolment code for [userId]. */
    fun enrolmentCode(userId: String): String =
        field(admin("POST", "/enrolment-codes", """{"user_id":"$userId"}"""), "code")

    /** Revokes a device. */
    fun revoke(deviceId: String) {
        admin("POST", "/devices/$deviceId/revoke")
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly()
        dataDir.toFile().deleteRecursively()
    }

    companion object {
        /** The admin token the server is started with. */
        const val ADMIN_TOKEN = "gwa_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

        /** The first string value of [name] in a JSON object (enough for the admin API's answers). */
        fun field(json: String, name: String): String =
            Regex("\"$name\"\\s*:\\s*\"([^\"]+)\"").find(json)?.groupValues?.get(1)
                ?: error("no \"$name\" in $json")
    }
}
