import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import java.nio.file.*;
public class Fingerprint {
  public static void main(String[] args) throws Exception {
    for (String path : args) {
      Schema s = new Schema.Parser().parse(new String(Files.readAllBytes(Paths.get(path)), "UTF-8"));
      System.out.println(String.format("%016x", SchemaNormalization.parsingFingerprint64(s)) + " " + SchemaNormalization.toParsingForm(s));
    }
  }
}
