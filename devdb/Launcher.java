// Local MongoDB stand-in for dev/tests (no mongod here). Run as:
//   java -cp "$(cat devdb/.classpath)" devdb/Launcher.java <port> <memory|h2-file> [--exit-on-eof]
import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

public class Launcher {
    // ServerVersion.MONGO_5_0 claims wire version 8, which PyMongo 4.20 rejects (needs >= 9).
    static final MongoVersion MONGO_5_0_WIRE_13 = new MongoVersion() {
        public List<Integer> getVersionArray() { return List.of(5, 0, 0); }
        public int getWireVersion() { return 13; }
    };

    // Commands that change data. H2's MVStore commits on its own about once a second, so a SIGKILL lost
    // up to a second of acknowledged writes (48 of 200 measured); committing before the reply keeps each.
    static final Set<String> WRITES = Set.of(
        "insert", "update", "delete", "findandmodify", "create", "createindexes", "drop", "dropdatabase",
        "dropindexes", "renamecollection");

    static final class DurableH2Backend extends H2Backend {
        DurableH2Backend(String fileName) { super(fileName); }

        @Override
        public Document handleCommand(Channel channel, String database, String command, Document query) {
            try {
                return super.handleCommand(channel, database, command, query);
            } finally {
                if (WRITES.contains(command.toLowerCase(Locale.ROOT))) {
                    commit();  // also after a failed write: part of an insertMany may have gone in
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        // Must be set before the first LoggerFactory call, or the library logs each connection at INFO.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        if (args.length < 2) {
            System.err.println("usage: Launcher <port> <memory|h2-file> [--exit-on-eof]");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        MongoBackend backend;
        if (args[1].equals("memory")) {
            backend = new MemoryBackend();
        } else {
            Path file = Path.of(args[1]).toAbsolutePath();
            Files.createDirectories(file.getParent());
            // DEVDB_COMMIT=auto keeps H2's own once-a-second commit (the benchmark's baseline).
            backend = "auto".equals(System.getenv("DEVDB_COMMIT"))
                ? new H2Backend(file.toString())
                : new DurableH2Backend(file.toString());
        }
        backend.version(MONGO_5_0_WIRE_13);
        MongoServer server = new MongoServer(backend);
        try {
            server.bind("127.0.0.1", port);
        } catch (Throwable e) {
            // A BindException escapes bind()'s RuntimeException-only cleanup and leaves
            // non-daemon netty threads running, so the JVM would hang instead of exiting.
            e.printStackTrace();
            System.exit(1);
        }
        // shutdown() ends with backend.close(), which for H2 closes the MVStore and so writes
        // out anything its 1 s auto-commit has not; SIGTERM/SIGINT run this hook.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown, "devdb-shutdown"));
        System.out.println("READY " + server.getLocalAddress().getPort());
        System.out.flush();
        if (args.length > 2 && args[2].equals("--exit-on-eof")) {
            // The parent holds our stdin open; EOF means it died (even by SIGKILL), so we go too.
            while (System.in.read() != -1) { }
            System.exit(0);
        }
        new CountDownLatch(1).await();
    }
}
