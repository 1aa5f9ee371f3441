using FlowOrleans.Cli.CommandLine;
using FlowOrleans.GrainInterfaces.Security;

namespace FlowOrleans.Cli.Cluster;

/// <summary>
/// The file holding flowctl's owner capability: the secret the pins and listening names the cluster verbs make belong
/// to (<see cref="FlowOrleans.Client.FlowClient.Owner"/>). One run pins and a later run unpins, so the capability must
/// outlive the process; it is made on first use, readable by its user only, and never printed.
/// </summary>
internal static class OwnerFile
{
    /// <summary><c>$XDG_CONFIG_HOME/flowctl/owner</c>, or <c>~/.config/flowctl/owner</c>.</summary>
    public static string DefaultPath => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.DoNotVerify), "flowctl", "owner");

    /// <summary>
    /// The capability in <paramref name="path"/>, made there if the file does not exist. Runs making it at once agree:
    /// exactly one makes the file, and the others read the capability it writes there.
    /// </summary>
    public static Capability LoadOrCreate(string option, string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                Create(path);
            }

            // A run that made the file a moment ago may still be writing its line: wait for it, briefly.
            for (var attempt = 0; ; attempt++)
            {
                var text = File.ReadAllText(path).Trim();
                if (Capability.TryParse(text, out var owner))
                {
                    return owner;
                }

                if (text.Length >= 32 || attempt >= 200)
                {
                    throw new CliFailure(ExitCode.BadInput, $"{option} '{path}' does not hold an owner capability; expected the 32 hex digits flowctl wrote there");
                }

                Thread.Sleep(10);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliFailure(ExitCode.BadInput, $"{option} '{path}' could not be read or made ({e.Message}); expected a file this user can read and write", e);
        }
    }

    private static void Create(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // Made with O_CREAT|O_EXCL: of runs making it at once exactly one succeeds, and the others read its line (waiting
        // for it above). A temporary file moved into place is not enough: File.Move without overwrite is not atomic on
        // every file system (it may check, then rename), and two runs each installed their own capability.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var line = System.Text.Encoding.ASCII.GetBytes(Capability.NewRandom().ToHex() + "\n");
        try
        {
            using var file = new FileStream(path, options);
            file.Write(line);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another run made it first: its capability is the one.
        }
    }
}
