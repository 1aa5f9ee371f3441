using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FlowOrleans.Cli.CommandLine;

/// <summary>
/// Where one invocation writes: tables and progress bars for people (Spectre.Console), or JSON for scripts
/// (<c>--json</c>: one document, or one object a line for verbs that report events as they happen). Writes are
/// serialised, since servers report flows from several tasks.
/// </summary>
internal sealed class CliOutput
{
    private static readonly JsonSerializerOptions s_indented = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,

        // Keys and endpoints stay readable ('+' not '\u002B'); the output is for shells and files, not HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly JsonSerializerOptions s_compact = new(s_indented) { WriteIndented = false };

    private readonly Lock _lock = new();
    private readonly TextWriter _output;

    public CliOutput(TextWriter output, TextWriter error, ConsoleKind kind, bool json, bool verbose)
    {
        _output = output;
        Error = error;
        Json = json;
        Verbose = verbose;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = kind switch { ConsoleKind.Plain => AnsiSupport.No, ConsoleKind.Terminal => AnsiSupport.Detect, _ => AnsiSupport.Yes },
            ColorSystem = kind == ConsoleKind.Plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = kind switch
            {
                ConsoleKind.Plain => InteractionSupport.No,
                ConsoleKind.Terminal => InteractionSupport.Detect,
                _ => InteractionSupport.Yes,
            },
        });
        if (kind != ConsoleKind.Terminal)
        {
            // Endpoints are long; a file or a pipe has no width to respect.
            Console.Profile.Width = 240;
        }

        ShowsProgress = !json && Console.Profile.Capabilities.Interactive && Console.Profile.Capabilities.Ansi;
    }

    public IAnsiConsole Console { get; }

    public TextWriter Error { get; }

    public bool Json { get; }

    public bool Verbose { get; }

    /// <summary>Whether progress bars are drawn: on an interactive terminal, never with <c>--json</c>.</summary>
    public bool ShowsProgress { get; }

    /// <summary>One plain line, for people (never with <c>--json</c>; verbs write <see cref="JsonLine"/> instead).</summary>
    public void Line(string text)
    {
        lock (_lock)
        {
            _output.WriteLine(text);
            _output.Flush();
        }
    }

    public void Write(IRenderable renderable)
    {
        lock (_lock)
        {
            Console.Write(renderable);
        }
    }

    /// <summary>The verb's result as one indented JSON document.</summary>
    public void JsonDocument<T>(T value) => Line(JsonSerializer.Serialize(value, s_indented));

    /// <summary>One event as one line of JSON (JSON Lines), for verbs that report as they go.</summary>
    public void JsonLine<T>(T value) => Line(JsonSerializer.Serialize(value, s_compact));

    /// <summary>A table with a title, its columns and rows of plain (escaped) text.</summary>
    public void Table(string title, string[] columns, IEnumerable<string[]> rows)
    {
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Rounded };
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(column)));
        }

        var any = false;
        foreach (var row in rows)
        {
            table.AddRow(row.Select(cell => (IRenderable)new Text(cell)).ToArray());
            any = true;
        }

        if (!any)
        {
            table.AddRow(columns.Select((_, i) => (IRenderable)new Text(i == 0 ? "(none)" : "")).ToArray());
        }

        Write(table);
    }
}
