// An entry that survives ConcurrentHashMap.clear() while another thread resizes the map.
//
// Run: java drivers/java/repro/ChmClearDuringResize.java [rounds]   (JDK 11 or later; default 20000)
//
// Each round: a fresh map; a helper thread inserts fresh keys, so the table keeps resizing; the
// main thread inserts key K (a key no other thread touches), calls clear(), and then asks
// containsKey(K). Nothing stores K after the clear began, so every round must print false. A
// round where K is still there after clear() returned is counted; the program prints how many,
// and exits 1 if any.
//
// What sim saw (`sim run --target java-chm --threads 2`, seed 3159): thread 2 stored key 2000234,
// cleared the map, and its next remove(2000234) returned the value stored before the clear,
// while thread 1 was inside one put() across the whole clear, as a thread that is copying its
// share of a resize would be. Suspected mechanism, read from the JDK's source: clear() meets a
// ForwardingNode, calls helpTransfer(), which returns the next table without waiting when every
// stride of the transfer is already claimed, and restarts on that table at bin 0; the bins of the
// stride still being copied land there after clear() has passed them.

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

public final class ChmClearDuringResize {
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
        int survived = 0;
        for (int round = 0; round < rounds; round++) {
            ConcurrentHashMap<Long, Long> m = new ConcurrentHashMap<>();
            CountDownLatch start = new CountDownLatch(1);
            Thread grower = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (long k = 1_000_000; k < 1_004_000; k++) {
                    m.put(k, k);
                }
            });
            grower.start();
            start.countDown();
            boolean seen = false;
            for (long k = 0; k < 400 && !seen; k++) {
                m.put(k, k);
                m.clear();
                seen = m.containsKey(k);
                if (seen) {
                    System.out.println("round " + round + ": key " + k + " is still there after "
                            + "clear() returned (value " + m.get(k) + ")");
                }
            }
            grower.join();
            if (seen) {
                survived++;
            }
        }
        System.out.println(survived + " of " + rounds + " rounds kept an entry through clear() "
                + "(java " + System.getProperty("java.version") + ")");
        System.exit(survived > 0 ? 1 : 0);
    }
}
