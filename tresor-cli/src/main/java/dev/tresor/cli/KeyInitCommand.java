package dev.tresor.cli;

import dev.tresor.crypto.Pkcs11KeyProvider;
import dev.tresor.crypto.awskms.AwsKmsKeyProvider;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "init", description = {
                "Create a KEK on an HSM token (--pkcs11): a non-extractable AES-256 key under a new label,",
                "through the token's PKCS#11 library. Refuses to replace a key with that label. Prints the",
                "keyProvider block to put in tresor.yaml. Needs no server. See docs/configuration.md.",
                "--awskms: check a KMS key you created in AWS (Tresor creates none) as the server will use",
                "it (DescribeKey, GenerateDataKey, Decrypt; credentials from the AWS SDK's default chain),",
                "then print its keyProvider block.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor key init --pkcs11 --library /usr/lib/softhsm/libsofthsm2.so \\",
                "      --slot 1234 --key-label tresor-kek-1 --pin-file /etc/tresor/hsm.pin",
                "  TRESOR_HSM_PIN=... tresor key init --pkcs11 --library /opt/hsm/lib.so \\",
                "      --slot-list-index 0 --key-label tresor-kek-1 --pin-env TRESOR_HSM_PIN",
                "  tresor key init --awskms --key-id alias/tresor --region eu-central-1",
        })
final class KeyInitCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    private final CliContext context;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Provider provider;

    /** Exactly one provider, each with its own options. */
    static final class Provider {
        @ArgGroup(exclusive = false)
        Pkcs11Options pkcs11;

        @ArgGroup(exclusive = false)
        AwsKmsOptions awsKms;
    }

    static final class Pkcs11Options {
        @Option(names = "--pkcs11", required = true, description = "Create the key on a PKCS#11 token (HSM).")
        boolean pkcs11;

        @Option(names = "--library", required = true, paramLabel = "FILE", description = "The token's PKCS#11 library.")
        Path library;

        @ArgGroup(exclusive = true, multiplicity = "0..1")
        Where where;

        @Option(names = "--key-label", required = true, paramLabel = "LABEL", description = "The new key's label.")
        String keyLabel;

        @ArgGroup(exclusive = true, multiplicity = "1")
        PinSource pin;
    }

    static final class Where {
        @Option(names = "--slot", paramLabel = "ID", description = "The slot id (as softhsm2-util --show-slots prints).")
        Long slot;

        @Option(names = "--slot-list-index", paramLabel = "N", description = "The slot at index N of the library's list.")
        Integer slotListIndex;
    }

    static final class PinSource {
        @Option(names = "--pin-file", paramLabel = "FILE", description = "A file whose first line is the user PIN.")
        Path file;

        @Option(names = "--pin-env", paramLabel = "VAR", description = "An environment variable holding the user PIN.")
        String variable;
    }

    static final class AwsKmsOptions {
        @Option(names = "--awskms", required = true, description = "Check an AWS KMS key (created in AWS).")
        boolean awsKms;

        @Option(names = "--key-id", required = true, paramLabel = "ARN|alias/NAME", description = "The KMS key.")
        String keyId;

        @Option(names = "--region", paramLabel = "REGION", description = "Its region (default: the ARN's, AWS_REGION).")
        String region;

        @Option(names = "--endpoint", paramLabel = "URL", description = "A KMS endpoint to use instead (VPC endpoint).")
        java.net.URI endpoint;
    }

    KeyInitCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        return provider.awsKms != null ? checkKmsKey(provider.awsKms) : createTokenKey(provider.pkcs11);
    }

    private Integer checkKmsKey(AwsKmsOptions kms) {
        if (kms.keyId.isBlank()) {
            throw CliException.usage("--key-id must not be empty");
        }
        String keyId;
        try {
            keyId = AwsKmsKeyProvider.open(new AwsKmsKeyProvider.Settings(kms.keyId, kms.region, kms.endpoint),
                    context.env()).keyId();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw CliException.error(e.getMessage());
        }
        context.err().println("KEK " + keyId + " works (DescribeKey, GenerateDataKey, Decrypt); put this in tresor.yaml:");
        context.out().println("keyProvider:");
        context.out().println("  kind: awskms");
        context.out().println("  keyId: \"" + kms.keyId + "\"");
        if (kms.region != null) {
            context.out().println("  region: " + kms.region);
        }
        if (kms.endpoint != null) {
            context.out().println("  endpoint: \"" + kms.endpoint + "\"");
        }
        return ExitCodes.OK;
    }

    private Integer createTokenKey(Pkcs11Options options) {
        Path library = options.library;
        String keyLabel = options.keyLabel;
        Where where = options.where;
        PinSource pin = options.pin;
        if (keyLabel.isBlank()) {
            throw CliException.usage("--key-label must not be empty");
        }
        Long slot = where == null ? null : where.slot;
        Integer index = where == null ? null : where.slotListIndex;
        Pkcs11KeyProvider.Settings settings = new Pkcs11KeyProvider.Settings(library, slot, index, keyLabel);
        Pkcs11KeyProvider.Pin source = pin.file != null ? Pkcs11KeyProvider.Pin.fromFile(pin.file)
                : Pkcs11KeyProvider.Pin.fromEnvironment(pin.variable);
        try {
            Pkcs11KeyProvider.generateKey(settings, source, context.env());
            // Open it as the server will: proves the label, the PIN and that the key is non-extractable.
            Pkcs11KeyProvider.open(settings, source, context.env());
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw CliException.error(e.getMessage());
        }
        context.err().println("created KEK pkcs11:" + keyLabel + " (non-extractable AES-256); put this in tresor.yaml:");
        context.out().println("keyProvider:");
        context.out().println("  kind: pkcs11");
        context.out().println("  library: " + library);
        if (slot != null) {
            context.out().println("  slot: " + slot);
        } else if (index != null) {
            context.out().println("  slotListIndex: " + index);
        }
        context.out().println("  keyLabel: " + keyLabel);
        context.out().println(pin.file != null ? "  pinFile: " + pin.file : "  pinEnv: " + pin.variable);
        return ExitCodes.OK;
    }
}
